"""The sentences of notebook 01, each built from the published numbers and the reconstructions.

Every published id these sentences need is named here, so that the notebook
types none.
"""

from __future__ import annotations

import pandas as pd

from microcalc.paper.chain import PaperReconstruction
from microcalc.paper.checks import reproducing_tests

__all__ = ["bone_shares_reported", "extent_sentence", "necrosis_reported", "type_2x2_sentence", "verdict_counts"]


def necrosis_reported(published: pd.DataFrame) -> str:
    """What the abstract says of MRI necrosis: the two rates, the P and the test it names."""
    v, p = published["value"], published.loc["nact_necrosis_compare"]
    return (
        f"necrosis {v['nact_necrosis_calc']} with vs {v['nact_necrosis_nocalc']} without microcalcification, "
        f"{p['p']} (test: {p['test_named']})."
    )


def bone_shares_reported(published: pd.DataFrame) -> str:
    """The osteolytic and whole-body shares of the abstract with their Ps."""
    v, p = published["value"], published["p"]
    return (
        f"osteolytic {v['bone_osteolytic_calc']} vs {v['bone_osteolytic_nocalc']}, {p['bone_type_compare']}; "
        f"whole body {v['bone_wholebody_calc']} vs {v['bone_wholebody_nocalc']}, {p['bone_extent_compare']}."
    )


def type_2x2_sentence(paper: PaperReconstruction) -> str:
    """Which tests reproduce the type comparison's P on the osteolytic-vs-other table, and what follows."""
    tests = reproducing_tests("bone_type_compare", paper.consistency()).get("2x2", [])
    return (
        f"On the osteolytic-vs-other table, {paper.published.loc['bone_type_compare', 'p']} is reproduced by: "
        f"**{', '.join(tests) or 'none'}**. Where no 2 × 2 test gives it, the comparison was presumably made "
        "over all three types: below are the 2 × 3 tables that keep the osteolytic counts and give the "
        "reported P under Pearson's χ² or Fisher's exact test."
    )


def extent_sentence(paper: PaperReconstruction) -> str:
    """How many extent tables give the published P, and how many of them agree with the 'mainly axial' claim."""
    extent = paper["bone_extent_2x3"].tables
    return (
        f"{len(extent)} extent tables give {paper.published.loc['bone_extent_compare', 'p']}; "
        f"{int(extent['claim_bone_extent_calc_axial'].sum())} of them also have axial as the most frequent "
        "extent with microcalcification."
    )


def verdict_counts(verdicts: pd.DataFrame) -> str:
    """A Markdown list: each verdict of :func:`microcalc.paper.checks.verdicts` with its count and ids."""
    counts = verdicts["verdict"].value_counts()
    lines = [
        f"- {label}: **{counts.get(label, 0)}** ({', '.join(verdicts.loc[verdicts['verdict'] == label, 'id'])})"
        for label in counts.index
    ]
    return f"Of the abstract's {len(verdicts)} P values:\n" + "\n".join(lines)
