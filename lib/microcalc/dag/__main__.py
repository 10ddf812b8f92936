"""``python -m microcalc.dag``: draw the causal diagram to ``figures/00_dag.png`` and ``.svg`` (``make dag``)."""

from microcalc.dag.drawing import main

__all__: list[str] = []

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
