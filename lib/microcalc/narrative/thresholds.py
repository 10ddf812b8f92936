"""Thresholds the sentences state in words, from the study specification."""

from microcalc.study import EPV_MIN as MIN_EPV
from microcalc.study import RARE_OUTCOME

__all__ = ["MIN_EPV", "RARE_OUTCOME"]
