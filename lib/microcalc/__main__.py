"""``python -m microcalc`` is ``microcalc-check``."""

from microcalc.pipeline.cli import main

raise SystemExit(main())
