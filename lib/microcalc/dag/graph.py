"""The causal assumptions behind the multivariable models, as data, and what they say of the adjustment sets.

The paper adjusts its two multivariable logistic models for a list of
covariates (:data:`microcalc.study.NACT_TERMS`, :data:`~microcalc.study.BONE_TERMS`)
without saying why. This module states the assumptions that would justify
such adjustment sets as a directed acyclic graph (DAG) over the data
contract's variables: :data:`EDGES` holds one :class:`Edge` per assumed arrow,
each with its reason. The arrows are this compendium's assumptions, drawn
from general clinical knowledge, not findings of the paper.

From the graph, :func:`backdoor_paths` lists the paths from the exposure to
the outcome that start with an arrow into the exposure (Pearl 2009, *Causality*,
section 3.3.1), :func:`is_blocked` applies d-separation to one path given an
adjustment set, and :func:`check_adjustment` says, for a model's covariates,
which backdoor paths stay open (confounders the model leaves out) and which
covariates lie on a path from the exposure to the outcome (mediators: adjusting
for them estimates the effect that does not pass through them). In the bone
cohort, tumour and nodal stage are such possible mediators.

The diagram of both graphs is drawn by :mod:`microcalc.dag.drawing`;
:mod:`microcalc.dag` re-exports the names of both modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from microcalc.study import BONE_TERMS, NACT_TERMS

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
]


@dataclass(frozen=True)
class Edge:
    """One assumed arrow ``source -> target`` of a cohort's DAG, with the reason it is assumed."""

    source: str
    target: str
    reason: str


#: The exposure and the outcome of each cohort's model (contract column names).
EXPOSURE = {"nact_cohort": "microcalcification", "bone_cohort": "microcalcification"}
OUTCOME = {"nact_cohort": "pcr", "bone_cohort": "bone_metastasis"}

#: The covariates each model adjusts for (the paper's, from :mod:`microcalc.study`), exposure excluded.
MODEL_TERMS = {
    "nact_cohort": tuple(t for t in NACT_TERMS if t != EXPOSURE["nact_cohort"]),
    "bone_cohort": tuple(t for t in BONE_TERMS if t != EXPOSURE["bone_cohort"]),
}

_AGE_MENO = Edge("age", "menopausal_status", "menopause follows age")
_AGE_SUBTYPE = Edge("age", "molecular_subtype", "the mix of molecular subtypes differs with age at diagnosis")
_SUBTYPE_CALC = Edge(
    "molecular_subtype", "microcalcification", "how often a tumour calcifies differs between molecular subtypes"
)
_PATH_CALC = Edge("pathology_type", "microcalcification", "ductal carcinomas calcify more often than lobular ones")

#: The assumed arrows of each cohort's DAG. Every node is a column of that cohort's contract.
EDGES: dict[str, tuple[Edge, ...]] = {
    "nact_cohort": (
        _AGE_MENO,
        Edge("age", "breast_density", "breast density falls with age"),
        Edge("menopausal_status", "breast_density", "breast density falls after menopause"),
        _AGE_SUBTYPE,
        _SUBTYPE_CALC,
        _PATH_CALC,
        Edge(
            "breast_density",
            "microcalcification",
            "dense tissue changes what mammography shows, so whether calcification is seen",
        ),
        Edge(
            "mri_necrosis",
            "microcalcification",
            "calcium is laid down in necrotic debris (dystrophic calcification); the direction is "
            "assumed: were it reversed, necrosis would be a mediator",
        ),
        Edge("molecular_subtype", "mri_necrosis", "necrosis is typical of fast-growing subtypes"),
        Edge("molecular_subtype", "mass", "subtypes differ in how they present on mammography"),
        Edge("age", "pcr", "response to chemotherapy differs with age"),
        Edge("breast_density", "pcr", "breast density has been linked with response (assumed)"),
        Edge("mass", "pcr", "a mass reflects tumour burden, which affects complete response"),
        Edge("molecular_subtype", "pcr", "response to chemotherapy differs strongly between subtypes"),
        Edge("pathology_type", "pcr", "lobular carcinomas respond less to chemotherapy"),
        Edge("mri_necrosis", "pcr", "necrosis is a risk factor for non-pCR (the abstract)"),
        Edge("microcalcification", "pcr", "the effect under study"),
    ),
    "bone_cohort": (
        _AGE_MENO,
        _AGE_SUBTYPE,
        _SUBTYPE_CALC,
        _PATH_CALC,
        Edge("center", "microcalcification", "mammography equipment and reading differ between centres"),
        Edge("center", "bone_metastasis", "bone imaging and follow-up differ between centres"),
        Edge(
            "microcalcification",
            "t_stage",
            "calcified tumours may be more extensive at diagnosis (assumed): stage as a mediator",
        ),
        Edge(
            "microcalcification",
            "n_stage",
            "calcification may mark tumours that spread to the nodes (assumed): stage as a mediator",
        ),
        Edge("molecular_subtype", "t_stage", "subtypes grow at different rates"),
        Edge("t_stage", "n_stage", "larger tumours more often involve the nodes"),
        Edge("age", "bone_metastasis", "younger patients more often have aggressive disease"),
        Edge("molecular_subtype", "bone_metastasis", "luminal tumours metastasise to bone more often"),
        Edge("pathology_type", "bone_metastasis", "lobular and ductal carcinomas spread differently"),
        Edge("t_stage", "bone_metastasis", "stage is the strongest predictor of distant metastasis"),
        Edge("n_stage", "bone_metastasis", "stage is the strongest predictor of distant metastasis"),
        Edge("microcalcification", "bone_metastasis", "the effect under study"),
    ),
}


def _edges(edges: Iterable[Edge] | str) -> tuple[Edge, ...]:
    return EDGES[edges] if isinstance(edges, str) else tuple(edges)


def parents(edges: Iterable[Edge] | str, node: str) -> set[str]:
    """The nodes with an arrow into ``node``; ``edges`` is an edge list or a cohort name."""
    return {e.source for e in _edges(edges) if e.target == node}


def children(edges: Iterable[Edge] | str, node: str) -> set[str]:
    """The nodes ``node`` has an arrow into."""
    return {e.target for e in _edges(edges) if e.source == node}


def descendants(edges: Iterable[Edge] | str, node: str) -> set[str]:
    """Every node reachable from ``node`` along arrows (``node`` itself excluded)."""
    edges = _edges(edges)
    seen: set[str] = set()
    todo = [node]
    while todo:
        for child in children(edges, todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _neighbours(edges: tuple[Edge, ...], node: str) -> set[str]:
    return parents(edges, node) | children(edges, node)


def backdoor_paths(edges: Iterable[Edge] | str, exposure: str, outcome: str) -> list[tuple[str, ...]]:
    """Every simple path from ``exposure`` to ``outcome`` that starts with an arrow into ``exposure``.

    Paths ignore the direction of the arrows except for the first one
    (Pearl 2009, *Causality*, definition 3.3.1). Returned sorted, so the
    order is stable.
    """
    edges = _edges(edges)
    paths = []

    def walk(path: list[str]) -> None:
        for nxt in sorted(_neighbours(edges, path[-1])):
            if nxt in path:
                continue
            if nxt == outcome:
                paths.append(tuple(path + [nxt]))
            else:
                walk(path + [nxt])

    for parent in sorted(parents(edges, exposure)):
        if parent == outcome:
            paths.append((exposure, outcome))
        else:
            walk([exposure, parent])
    return sorted(paths)


def is_blocked(edges: Iterable[Edge] | str, path: Sequence[str], adjusted: Iterable[str]) -> bool:
    """Whether ``adjusted`` blocks ``path`` (d-separation, Pearl 2009, definition 1.2.3).

    A path is blocked when one of its inner nodes is a non-collider that is
    adjusted for, or a collider (both neighbouring arrows point into it) that
    is not adjusted for and has no adjusted descendant.
    """
    edges = _edges(edges)
    adjusted = set(adjusted)
    arrows = {(e.source, e.target) for e in edges}
    for before, node, after in zip(path, path[1:], path[2:], strict=False):
        collider = (before, node) in arrows and (after, node) in arrows
        if collider:
            if node not in adjusted and not (descendants(edges, node) & adjusted):
                return True
        elif node in adjusted:
            return True
    return False


@dataclass(frozen=True)
class Adjustment:
    """What a DAG says of one model's adjustment set (from :func:`check_adjustment`).

    Attributes
    ----------
    open_paths : backdoor paths the adjustment set leaves open (confounding it does not remove).
    unadjusted_confounders : inner nodes of the open paths that could be adjusted for to close them.
    mediators : covariates of the model that lie on a directed path from the exposure to the
        outcome: adjusting for them removes the part of the effect that passes through them.
    other_descendants : covariates that descend from the exposure without leading to the outcome.
    """

    open_paths: tuple[tuple[str, ...], ...]
    unadjusted_confounders: frozenset[str]
    mediators: frozenset[str]
    other_descendants: frozenset[str]


def check_adjustment(
    cohort: str, adjusted: Iterable[str] | None = None, edges: Iterable[Edge] | None = None
) -> Adjustment:
    """Check an adjustment set against a cohort's DAG.

    Parameters
    ----------
    cohort : ``"nact_cohort"`` or ``"bone_cohort"``.
    adjusted : the covariates adjusted for; the paper's model (:data:`MODEL_TERMS`) by default.
    edges : the DAG; :data:`EDGES` of the cohort by default.

    Returns
    -------
    :class:`Adjustment`
    """
    edges = EDGES[cohort] if edges is None else tuple(edges)
    adjusted = set(MODEL_TERMS[cohort] if adjusted is None else adjusted)
    exposure, outcome = EXPOSURE[cohort], OUTCOME[cohort]
    open_paths = tuple(p for p in backdoor_paths(edges, exposure, outcome) if not is_blocked(edges, p, adjusted))
    unadjusted = frozenset(n for p in open_paths for n in p[1:-1] if n not in adjusted)
    below = descendants(edges, exposure) & adjusted
    mediators = frozenset(n for n in below if outcome in descendants(edges, n))
    return Adjustment(open_paths, unadjusted, mediators, frozenset(below - mediators))
