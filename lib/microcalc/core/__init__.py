"""Project paths, deterministic output files, notebook conveniences and a parallel map (the bottom layer)."""
