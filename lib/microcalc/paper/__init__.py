"""This paper's reconstructions and their consistency checks.

* :mod:`microcalc.paper.chain`: which tables the abstract implies
  (:func:`reconstruct_paper`, :class:`PaperReconstruction`);
* :mod:`microcalc.paper.checks`: which test reproduces each reported P, as a
  typed long table (:func:`consistency_table`), with the verdicts and the
  page's display derived from it;
* :mod:`microcalc.paper.sentences`: the sentences of notebook 01.
"""

from microcalc.paper import sentences
from microcalc.paper.chain import GROUPS, PaperReconstruction, reconstruct_paper
from microcalc.paper.checks import (
    CONSISTENCY_COLUMNS,
    CONSISTENCY_FILE,
    OR_CI_BASIS,
    VERDICTS,
    consistency_display,
    consistency_table,
    read_consistency,
    reproducing_tests,
    verdicts,
)

__all__ = [
    "CONSISTENCY_COLUMNS",
    "CONSISTENCY_FILE",
    "GROUPS",
    "OR_CI_BASIS",
    "VERDICTS",
    "PaperReconstruction",
    "consistency_display",
    "consistency_table",
    "read_consistency",
    "reconstruct_paper",
    "reproducing_tests",
    "sentences",
    "verdicts",
]
