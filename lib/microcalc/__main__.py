"""``python -m microcalc`` is ``microcalc-check``."""

from .cli import main

raise SystemExit(main())
