"""The diagram of the causal assumptions behind the multivariable models (``figures/00_dag.png``, ``.svg``).

The graphs themselves, one :class:`~microcalc.dag.graph.Edge` per assumed
arrow with its reason, and the d-separation checks of the models' adjustment
sets live in :mod:`microcalc.dag.graph`. Here: where each node is drawn
(:data:`POSITIONS`), one cohort's graph with its nodes coloured by their role
in the paper's model (:func:`plot_dag`), and both in one figure with a legend
(:func:`figure`).

``python -m microcalc.dag`` draws both graphs to ``figures/00_dag.png`` and
``.svg`` with :func:`microcalc.analysis.plots.save_figure` (fixed metadata, stable bytes),
unless nothing it draws from changed: :func:`main` keeps in ``.cache/dag.json``
(git-ignored) the SHA-256 of its inputs, which are the source of this package
and of every library module it imports, directly or not
(:func:`microcalc.core.sources.module_closure`: the graphs' arrows and the
study's model terms are code, and it reads no data file), the output folder,
the Python and the installed package set (:mod:`microcalc.core.digest`), with
the SHA-256 of both figures it wrote. When that digest matches and both
figures have the recorded bytes it says so and draws nothing; a changed byte
of any input or a deleted or edited figure redraws; ``--force`` always does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from microcalc import labels
from microcalc.core.digest import inputs_sha256, is_up_to_date, write_record
from microcalc.core.paths import project_path, project_root
from microcalc.core.sources import LIBRARY, module_closure
from microcalc.dag.graph import EDGES, EXPOSURE, MODEL_TERMS, OUTCOME, Adjustment, check_adjustment

__all__ = ["POSITIONS", "layout", "plot_dag", "figure", "diagram_inputs", "main"]


#: Where each node is drawn (x, y): exposure left, outcome right, common causes above,
#: mediators between them. Only the picture depends on it.
POSITIONS: dict[str, dict[str, tuple[float, float]]] = {
    "nact_cohort": {
        "age": (0.0, 4.0),
        "menopausal_status": (-1.4, 3.0),
        "breast_density": (-1.7, 1.3),
        "molecular_subtype": (1.9, 2.0),
        "mri_necrosis": (2.0, 0.8),
        "mass": (3.1, -0.65),
        "pathology_type": (-0.9, -1.2),
        "microcalcification": (0.0, 0.0),
        "pcr": (4.2, 0.0),
    },
    "bone_cohort": {
        "center": (2.2, 2.4),
        "age": (-0.4, 3.6),
        "menopausal_status": (-1.6, 2.6),
        "molecular_subtype": (0.6, 1.6),
        "pathology_type": (0.8, -1.6),
        "microcalcification": (0.0, 0.0),
        "t_stage": (1.8, -0.7),
        "n_stage": (3.2, -1.1),
        "bone_metastasis": (4.4, 0.0),
    },
}

#: Arrows drawn curved (connection radius), so that they pass around the nodes in their way.
_CURVED = {
    ("age", "pcr"): -0.25,
    ("breast_density", "pcr"): 0.55,
    ("molecular_subtype", "bone_metastasis"): -0.12,
    ("pathology_type", "bone_metastasis"): 0.15,
}


def layout(cohort: str) -> dict[str, tuple[float, float]]:
    """Positions of a cohort's nodes for :func:`plot_dag` (:data:`POSITIONS`)."""
    return dict(POSITIONS[cohort])


_ROLE_COLOURS = {  # Okabe-Ito, as microcalc.analysis.plots.OKABE_ITO
    "exposure": "#0072B2",
    "outcome": "#E69F00",
    "adjusted": "#DDDDDD",
    "mediator adjusted for": "#D55E00",
    "confounder not adjusted for": "#F0E442",
    "not adjusted": "#FFFFFF",
}


def _role(cohort: str, node: str, adj: Adjustment) -> str:
    if node == EXPOSURE[cohort]:
        return "exposure"
    if node == OUTCOME[cohort]:
        return "outcome"
    if node in adj.mediators:
        return "mediator adjusted for"
    if node in adj.unadjusted_confounders:
        return "confounder not adjusted for"
    return "adjusted" if node in MODEL_TERMS[cohort] else "not adjusted"


def plot_dag(cohort: str, title: str | None = None, ax=None):
    """Draw a cohort's DAG, nodes coloured by their role in the paper's model. Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.5))
    pos = layout(cohort)
    adj = check_adjustment(cohort)
    exposure, outcome = EXPOSURE[cohort], OUTCOME[cohort]
    for e in EDGES[cohort]:
        on_mediator_path = e.source == exposure and e.target in adj.mediators
        colour = "#0072B2" if e.source == exposure else "#555555"
        ax.annotate(
            "",
            xy=pos[e.target],
            xytext=pos[e.source],
            arrowprops=dict(
                arrowstyle="-|>",
                color=colour,
                linewidth=1.6 if colour != "#555555" else 0.9,
                linestyle="--" if on_mediator_path else "-",
                shrinkA=22,
                shrinkB=22,
                connectionstyle=f"arc3,rad={_CURVED.get((e.source, e.target), 0.0)}",
            ),
        )
    for node, (x, y) in pos.items():
        role = _role(cohort, node, adj)
        ax.text(
            x,
            y,
            labels.VARIABLES.get(node, node.replace("_", " ")),
            ha="center",
            va="center",
            fontsize=8,
            bbox=dict(
                boxstyle="round,pad=0.35",
                facecolor=_ROLE_COLOURS[role],
                edgecolor="#333333",
                linewidth=1.4 if node in (exposure, outcome) else 0.7,
            ),
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_axis_off()
    if title:
        ax.set_title(title, loc="left")
    return ax


def figure():
    """Both cohorts' DAGs in one figure with a legend of the node roles. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, axes = plt.subplots(2, 1, figsize=(8.5, 9.5))
    plot_dag("nact_cohort", "NACT cohort: microcalcification -> pCR (model of notebook 04)", ax=axes[0])
    plot_dag("bone_cohort", "Bone cohort: microcalcification -> bone metastasis (model of notebook 06)", ax=axes[1])
    shown = {_role(c, n, check_adjustment(c)) for c in EDGES for n in POSITIONS[c]}
    handles = [
        Patch(facecolor=colour, edgecolor="#333333", label=role)
        for role, colour in _ROLE_COLOURS.items()
        if role in shown
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, 0.03))
    fig.text(
        0.5,
        0.0,
        "Arrows are assumptions (reasons in microcalc.dag.EDGES); dashed: from the exposure to a possible mediator.",
        ha="center",
        fontsize=7.5,
    )
    fig.subplots_adjust(bottom=0.12, hspace=0.15)
    return fig


#: Where :func:`main` records what it drew from (git-ignored).
RECORD = ".cache/dag.json"


def diagram_inputs() -> dict[str, Path]:
    """The library source the diagram is drawn by, named ``lib/microcalc/...``: this package and all it imports."""
    files = module_closure(["microcalc.dag", "microcalc.dag.__main__"], LIBRARY)
    return {f"lib/microcalc/{p.relative_to(LIBRARY).as_posix()}": p for p in files}


def main(argv: list[str] | None = None) -> int:
    """``python -m microcalc.dag [--output-dir DIR] [--force]``: write ``figures/00_dag.png`` and ``.svg``.

    Draws nothing when its inputs and both figures are byte for byte those recorded (see the module's docstring).
    """
    ap = argparse.ArgumentParser(prog="python -m microcalc.dag", description=main.__doc__)
    ap.add_argument("--output-dir", default=".", help="root of the outputs (default: the project)")
    ap.add_argument("--force", action="store_true", help="draw even if nothing changed")
    args = ap.parse_args(argv)
    inputs = diagram_inputs()
    folder = project_path(args.output_dir) / "figures"
    outputs = {f"figures/00_dag.{ext}": folder / f"00_dag.{ext}" for ext in ("png", "svg")}
    here, root = folder.resolve(), project_root().resolve()
    digest = inputs_sha256(
        inputs, {"figures": here.relative_to(root).as_posix() if here.is_relative_to(root) else str(here)}
    )
    record = project_path(RECORD)
    if not args.force and is_up_to_date(record, digest, outputs):
        print(f"causal diagram up to date: its {len(inputs)} source files are unchanged (sha256 {digest[:12]}…)")
        return 0
    record.unlink(missing_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from microcalc.analysis.plots import save_figure, use_style

    use_style()
    fig = figure()
    for path in save_figure(fig, "00_dag", args.output_dir):
        print(f"wrote figures/{path.name}")
    plt.close(fig)
    write_record(record, digest, len(inputs), outputs)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
