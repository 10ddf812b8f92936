"""The causal assumptions behind the multivariable models, as data, and their diagram.

The paper adjusts its two multivariable models without saying why; this
package states, as one directed acyclic graph per cohort, the assumptions that
would justify the adjustment sets, and checks the models' covariates against
them (open backdoor paths, adjusted mediators). The arrows are this
compendium's assumptions, not findings of the paper.

Modules: :mod:`~microcalc.dag.graph` (the arrows with their reasons, and the
d-separation checks) and :mod:`~microcalc.dag.drawing` (the diagram); this
package re-exports their public names. ``python -m microcalc.dag`` draws both
graphs to ``figures/00_dag.png`` and ``.svg``.
"""

from microcalc.dag.drawing import POSITIONS, figure, layout, main, plot_dag
from microcalc.dag.graph import (
    EDGES,
    EXPOSURE,
    MODEL_TERMS,
    OUTCOME,
    Adjustment,
    Edge,
    backdoor_paths,
    check_adjustment,
    children,
    descendants,
    is_blocked,
    parents,
)

__all__ = [
    "Edge",
    "EDGES",
    "EXPOSURE",
    "OUTCOME",
    "MODEL_TERMS",
    "Adjustment",
    "parents",
    "children",
    "descendants",
    "backdoor_paths",
    "is_blocked",
    "check_adjustment",
    "POSITIONS",
    "layout",
    "plot_dag",
    "figure",
    "main",
]
