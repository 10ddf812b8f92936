"""The tables of notebook 01 (what the paper's numbers imply) as a clinician reads them.

Each builder takes a computed frame of :mod:`microcalc.paper` (or the
published statistics) and returns a :class:`~microcalc.analysis.display.Shown`:
published quantities named by their description (measure and group of
``data/published/abstract_statistics.csv``), not their id; tests, categories
and cells by their names in words (:data:`microcalc.labels.ALL`); yes/no for
booleans; P values in journal style. Nothing here computes a result: the
frames written to ``data/reconstructed/`` are unchanged, only shown.
"""

from __future__ import annotations

import re

import pandas as pd

from microcalc import labels as lab
from microcalc.abstract.published import format_p
from microcalc.abstract.reconstruct import Reconstruction
from microcalc.analysis.display import MISSING, Shown, relabel, show
from microcalc.paper.chain import GROUPS, PaperReconstruction
from microcalc.paper.checks import consistency_display

__all__ = [
    "CHECK_DECIMALS",
    "as_printed",
    "coherence_view",
    "consistency_tests_view",
    "consistency_view",
    "contingency_view",
    "describe",
    "feasible_range_view",
    "feasible_tables_view",
    "grim_view",
    "overview_sentence",
    "overview_view",
    "p_range",
    "published_view",
    "sentence_start",
    "steps_view",
    "verdict_counts",
    "verdicts_view",
    "words",
]

#: Decimals of a P recomputed to check a printed one: one more than the journal's three, so that
#: the reader sees how it rounds ("0.0293" prints as "P = 0.029").
CHECK_DECIMALS = 4


def sentence_start(text: str) -> str:
    """``text`` with a capital first letter, unless it starts with a term such as "pCR".

    >>> sentence_start("pCR rate"), sentence_start("bone metastasis rate")
    ('pCR rate', 'Bone metastasis rate')
    """
    if len(text) > 1 and text[0].islower() and not text[1].isupper():
        return text[0].upper() + text[1:]
    return text


def _in_sentence(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[0].isupper() and text[1].islower() else text


def describe(published: pd.DataFrame, ident: str) -> str:
    """A published quantity by its description: its measure, and its group when it has one.

    A univariable or multivariable odds ratio says which; a group the measure already names is not said twice.

    >>> pub = pd.DataFrame({"measure": ["pCR rate"], "group": ["microcalcification"]}, index=["nact_pcr_calc"])
    >>> describe(pub, "nact_pcr_calc")
    'pCR rate, microcalcification'
    >>> describe(pd.DataFrame({"measure": ["mode, with microcalcification"], "group": ["microcalcification"]}), 0)
    'Mode, with microcalcification'
    """
    measure, group = published.loc[ident, "measure"], published.loc[ident, "group"]
    text = f"{measure}, {group}" if group and group != "all" and not str(measure).endswith(group) else str(measure)
    analysis = published.loc[ident, "analysis"] if "analysis" in published else ""
    if analysis in ("univariable", "multivariable"):
        text += f" ({analysis})"
    return sentence_start(str(relabel(text, lab.ALL)))


def words(text: str) -> str:
    """Every code name (a word with an underscore) in ``text`` replaced by its label.

    A variable reads as inside a sentence (:data:`microcalc.labels.IN_TEXT`), anything else as its label.

    >>> words("fisher_exact, logistic_wald"), words("global P, menopausal_status")
    ("Fisher's exact test, Wald test of logistic regression", 'global P, menopausal status')
    """
    return re.sub(
        r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", lambda m: lab.IN_TEXT.get(m[0]) or lab.ALL.get(m[0], m[0]), str(text)
    )


def _cohort(code: str) -> str:
    return lab.COHORT_NAMES.get(code, code)


def _range(text: str) -> str:
    """ "1.065" and "2.974" -> "1.065 to 2.974"; "100-151 (7 values)" -> "100 to 151 (7 values)"."""
    return re.sub(r"(\d)-(\d)", r"\1 to \2", text)


def as_printed(value: str, ci_low: str = "", ci_high: str = "", p: str = "") -> str:
    """A published statistic as printed, in one cell: value, 95% CI in brackets, P.

    >>> as_printed("2.352", "1.186", "4.667", "P = 0.014"), as_printed("", p="P < 0.001"), as_printed("20.6%")
    ('2.352 (1.186–4.667), P = 0.014', 'P < 0.001', '20.6%')
    """
    text = f"{value} ({ci_low}–{ci_high})" if ci_low else str(value)
    return ", ".join(t for t in (text, p) if t) or MISSING


def published_view(published: pd.DataFrame) -> Shown:
    """The abstract's statistics, as printed: the quantity (measure, group, analysis), its value with 95% CI
    and P in one cell, the test the paper names, the cohort."""
    frame = pd.DataFrame(
        {
            "Published number": [describe(published, i) for i in published.index],
            "As printed": [as_printed(r["value"], r["ci_low"], r["ci_high"], r["p"]) for _, r in published.iterrows()],
            "Test the paper names": published["test_named"].replace("", MISSING),
            "Cohort": published["cohort"].map(_cohort),
        }
    )
    return show(frame, index=False, caption="As printed: value (95% CI), P.")


def _title(paper: PaperReconstruction, name: str) -> str:
    return sentence_start(str(relabel(paper.items[name].title.replace(" vs ", " against "), lab.ALL)))


def _input(paper: PaperReconstruction, ident: str) -> str:
    if ident in paper.items:
        return f"the table of {_in_sentence(_title(paper, ident))}"
    return describe(paper.published, ident)


def overview_view(paper: PaperReconstruction) -> Shown:
    """One row per reconstruction: what it is, the published numbers it uses, how many tables fit them."""
    overview = paper.overview()
    frame = pd.DataFrame(
        {
            "Reconstruction": [_title(paper, name) for name in overview["reconstruction"]],
            "Feasible tables": overview["feasible tables"],
            "Unique": overview["status"].eq("unique"),
            "The table": overview["table"].str.replace(" vs ", " against ").replace("", MISSING),
            "From the published numbers": [
                "; ".join(_input(paper, i) for i in paper.items[name].inputs) for name in overview["reconstruction"]
            ],
        }
    )
    return show(frame)


def overview_sentence(paper: PaperReconstruction) -> str:
    """How many reconstructions are unique, naming each (Markdown)."""
    overview = paper.overview()
    unique = overview["status"].eq("unique")
    named = [_in_sentence(_title(paper, name)) for name in overview["reconstruction"]]
    one = [n for n, u in zip(named, unique, strict=True) if u]
    many = [n for n, u in zip(named, unique, strict=True) if not u]
    return (
        f"**{len(one)} of {len(overview)}** reconstructions are unique ({'; '.join(one)}); "
        f"{len(many)} leave a feasible set ({'; '.join(many)})."
    )


def verdict_counts(verdicts: pd.DataFrame, published: pd.DataFrame) -> str:
    """A Markdown list: each verdict of :func:`microcalc.paper.verdicts` with its count and the results it covers."""
    counts = verdicts["verdict"].value_counts()
    lines = [
        f"- {label}: **{counts.get(label, 0)}** ("
        + "; ".join(describe(published, i) for i in verdicts.loc[verdicts["verdict"] == label, "id"])
        + ")"
        for label in counts.index
    ]
    return f"Of the abstract's {len(verdicts)} P values:\n" + "\n".join(lines)


def steps_view(reconstruction: Reconstruction) -> Shown:
    """How many candidate tables survive each reported number in turn."""
    steps = reconstruction.steps.assign(constraint=reconstruction.steps["constraint"].map(words))
    return show(
        steps, headers={"constraint": "Reported number the tables must reproduce", "candidates left": "Tables left"}
    )


def contingency_view(paper: PaperReconstruction, name: str, solution: int = 1) -> Shown:
    """Feasible table number ``solution`` of ``name``: groups named, categories labelled, row %."""
    frame = paper.table_frame(name, solution)
    frame.columns = [sentence_start(str(lab.ALL.get(c, c))) for c in frame.columns]
    return show(frame.rename(index=lambda g: lab.ALL.get(g, g)), index="Group")


def feasible_range_view(reconstruction: Reconstruction, event: str) -> Shown:
    """The range of each cell of a 2 × 2 feasible set: smallest, largest, number of distinct values.

    ``event`` names the event counted (e.g. "necrosis on MRI").
    """
    rows = {
        "events_exposed": f"Microcalcification: with {event}",
        "n_exposed": "Microcalcification: patients",
        "events_reference": f"No microcalcification: with {event}",
        "n_reference": "No microcalcification: patients",
    }
    summary = reconstruction.summary().rename(index=rows)
    return show(summary, index="Cell", headers={"min": "Smallest", "max": "Largest", "distinct": "Distinct values"})


def _counts(tables: pd.DataFrame, side: str, categories: list[str]) -> list[str]:
    return [" / ".join(str(int(v)) for v in row) for row in tables[[f"{side}_{c}" for c in categories]].to_numpy()]


def feasible_tables_view(paper: PaperReconstruction, name: str) -> Shown:
    """Every feasible 2 × k table of ``name``: counts by group, P under each test, the abstract's claims.

    One row per table, numbered from 1 as in ``01_reconstructed_tables.csv``; a column per
    qualitative claim of the abstract (``claim_<id>``) says whether the table agrees with it.
    """
    rec = paper[name]
    cats, tables = rec.categories, rec.tables
    names = " / ".join(str(lab.ALL.get(c, c)) for c in cats)
    frame = pd.DataFrame(
        {
            "Table": range(1, len(tables) + 1),
            GROUPS[0].capitalize(): _counts(tables, "exposed", cats),
            "No microcalcification": _counts(tables, "reference", cats),
        }
    )
    for column in [c for c in tables.columns if c.startswith("p_") and c != "p_reproduced_by"]:
        frame[f"P, {lab.ALL.get(column[2:], column[2:])}"] = [
            format_p(p, CHECK_DECIMALS, label=False) for p in tables[column]
        ]
    if "p_reproduced_by" in tables:
        frame["Reproduces the reported P under"] = [
            words(t) or MISSING for t in tables["p_reproduced_by"].str.replace(" ", ", ")
        ]
    idents = [c.removeprefix("claim_") for c in tables.columns if c.startswith("claim_")]
    claims = [f"{paper.published.loc[i, 'measure']}: {paper.published.loc[i, 'value']}" for i in idents]
    for k, ident in enumerate(idents, 1):
        frame["Agrees with the abstract" + (f" ({k})" if len(idents) > 1 else "")] = tables[f"claim_{ident}"].to_numpy()
    numbered = [f"({k}) {c}" if len(claims) > 1 else c for k, c in enumerate(claims, 1)]
    said = f". Agrees with the abstract: with its “{'”; “'.join(numbered)}”" if claims else ""
    caption = f"Counts: {names}{said}. P values to {CHECK_DECIMALS} decimals, to show how they round."
    return show(frame, caption=caption)


def p_range(p_min: float, p_max: float, decimals: int = CHECK_DECIMALS) -> str:
    """A P, or the range of P over a feasible set, in journal style: "P = 0.0293", "P 0.0002 to 0.0009".

    >>> p_range(0.029325, 0.029325), p_range(2.18e-4, 9.17e-4), p_range(3e-5, 3e-5)
    ('P = 0.0293', 'P 0.0002 to 0.0009', 'P < 0.0001')
    """
    low, high = format_p(p_min, decimals, label=False), format_p(p_max, decimals, label=False)
    if low == high:
        return format_p(p_min, decimals)
    return f"P {low} to {high}"


def _basis(text: str) -> str:
    """ "2x2 32/155 vs 50/158" -> "2 × 2 table 32/155 against 50/158"; "2x3, feasible set of 2 tables" ->
    "2 feasible 2 × 3 tables"."""
    feasible = re.fullmatch(r"(\d)x(\d), feasible set of (\d+) tables", text)
    if feasible:
        return f"{feasible[3]} feasible {feasible[1]} × {feasible[2]} tables"
    unique = re.fullmatch(r"(\d)x(\d) (.+)", text)
    if unique:
        return f"{unique[1]} × {unique[2]} table {unique[3].replace(' vs ', ' against ')}"
    return text


def consistency_view(table: pd.DataFrame, published: pd.DataFrame) -> Shown:
    """The consistency table (:func:`microcalc.paper.consistency_table`) for reading: one row per reported P
    and table it was tested on, and whether it agrees with the paper, as
    :func:`microcalc.paper.consistency_display` says. The P of each test is in :func:`consistency_tests_view`.
    """
    wide = consistency_display(table, published)
    frame = pd.DataFrame(
        {
            "Result": [describe(published, i) for i in wide["id"]],
            "Reported P": wide["reported P"].to_numpy(),
            "Tested on": [_basis(b) for b in wide["basis"]],
            "Agrees with the paper": wide["agrees"].map(words).to_numpy(),
        }
    )
    return show(frame)


def consistency_tests_view(table: pd.DataFrame, published: pd.DataFrame) -> Shown:
    """The P each test gives for each reported P (:func:`microcalc.paper.consistency_table`), one row per
    result, table and test: the P ("P = 0.0293"), or its range over a feasible set, and whether it prints as
    reported ("yes", "no", or in how many of the feasible tables it does).

    A result tested on more than one table names the table after it.
    """
    bases = table.groupby("id")["basis"].nunique()
    rows = []
    for r in table.to_dict("records"):
        result = describe(published, r["id"])
        if bases[r["id"]] > 1:
            result += f", {_basis(r['basis'])}"
        if not r["applicable"]:
            p, prints = "not applicable", MISSING
        elif r["note"]:
            p, prints = words(r["note"]), MISSING
        else:
            p = p_range(r["p_min"], r["p_max"])
            if pd.notna(r["n_tables"]) and r["n_tables"] > 1:
                prints = f"in {r['n_reproducing']} of {r['n_tables']} tables"
            else:
                prints = "yes" if r["reproduces"] else "no"
        rows.append(
            {
                "Result": result,
                "Test": lab.ALL.get(r["test"], r["test"]),
                "Recomputed P": p,
                "Prints as reported": prints,
            }
        )
    frame = pd.DataFrame(rows)
    return show(frame, caption=f"P values to {CHECK_DECIMALS} decimals, to show how they round.")


#: How many tests a P is recomputed under: a P that all reproduce is said "all five tests".
_ALL_TESTS = {5: "all five tests"}


def _reproduced_by(text: str) -> str:
    names = [t.strip() for t in str(text).split(",") if t.strip()]
    return _ALL_TESTS.get(len(names), words(text)) if len(names) > 1 else words(text)


def verdicts_view(verdicts: pd.DataFrame, published: pd.DataFrame) -> Shown:
    """One verdict per reported P (:func:`microcalc.paper.verdicts`), the result named, the tests in words.

    Whether a test the paper names reproduces the P reads "yes"/"no", or "the paper names no test" where
    it names none.
    """
    named = [
        "the paper names no test" if names == "not stated" else ("yes" if bool(ok) else "no")
        for names, ok in zip(verdicts["paper names"], verdicts["named_test_reproduces"], strict=True)
    ]
    frame = pd.DataFrame(
        {
            "Result": [describe(published, i) for i in verdicts["id"]],
            "Reported P": verdicts["reported P"].to_numpy(),
            "Test the paper names": verdicts["paper names"].to_numpy(),
            "A test the paper names reproduces it": named,
            "Reproduced by": [_reproduced_by(t) for t in verdicts["reproduced by"]],
        }
    )
    return show(frame)


def coherence_view(coherence: pd.DataFrame, published: pd.DataFrame) -> Shown:
    """OR-CI-P coherence (:meth:`PaperReconstruction.coherence`): the P and OR the printed CI implies."""
    pub = published.loc[coherence["id"]]

    def p(x: float) -> str:
        return format_p(x, CHECK_DECIMALS, label=False)

    frame = pd.DataFrame(
        {
            "Result": [describe(published, i) for i in coherence["id"]],
            "As printed": [as_printed(r["value"], r["ci_low"], r["ci_high"], r["p"]) for _, r in pub.iterrows()],
            "P from the CI": [p(x) for x in coherence["P from CI"]],
            "P the printed digits allow": [
                p(lo) if p(lo) == p(hi) else f"{p(lo)} to {p(hi)}"
                for lo, hi in zip(coherence["P min"], coherence["P max"], strict=True)
            ],
            "OR from the CI": [f"{x:.3f}" for x in coherence["OR from CI"]],
            "P consistent": coherence["P consistent"].to_numpy(),
            "OR consistent": coherence["OR consistent"].to_numpy(),
        }
    )
    caption = (
        f"As printed: OR (95% CI), P. OR from the CI: its log-midpoint. P values to {CHECK_DECIMALS} decimals, "
        "to show how they round."
    )
    return show(frame, caption=caption)


def grim_view(grim: pd.DataFrame, paper: PaperReconstruction) -> Shown:
    """GRIM (:meth:`PaperReconstruction.grim`): each reported percentage against its possible denominators
    (those of the feasible tables of its reconstruction, named in the caption)."""
    frame = pd.DataFrame(
        {
            "Percentage": [describe(paper.published, i) for i in grim["id"]],
            "Reported": grim["reported"].to_numpy(),
            "Denominators of the feasible tables": [_range(d) for d in grim["denominators"]],
            "Possible for every denominator": grim["all possible (GRIM)"].to_numpy(),
        }
    )
    names = "; ".join(_in_sentence(_title(paper, n)) for n in dict.fromkeys(grim["reconstruction"]))
    return show(frame, caption=f"The denominators are those of the feasible tables of: {names}.")
