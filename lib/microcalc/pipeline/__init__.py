"""Running the analysis: notebooks, transactional site runs, the HTML edition, bundles, pooling, the CLI."""
