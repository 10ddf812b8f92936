"""The tables of notebook 02 (the synthetic cohorts) as a clinician reads them.

Each builder takes what :mod:`microcalc.cohorts.synthesize` computed or read
(the assumptions, the calibration, the target checks, the covariate
summaries, the subtype scan) and returns a
:class:`~microcalc.analysis.display.Shown`: parameters named in words
(:data:`microcalc.labels.ALL`), shares as percentages, P values in journal
style, yes/no for booleans. Nothing is computed here; nothing written changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from microcalc import labels as lab
from microcalc.abstract.published import format_p
from microcalc.analysis.display import MISSING, Shown, show
from microcalc.analysis.figure_style import fixed_and_chosen_table
from microcalc.core.outputs import sha256
from microcalc.core.paths import project_path
from microcalc.narrative.reconstruction_tables import sentence_start, words

__all__ = [
    "age_view",
    "assumption_sources",
    "assumption_values",
    "assumptions_view",
    "calibration_reasons",
    "calibration_view",
    "checksums",
    "cohort_files",
    "covariate_view",
    "fixed_and_chosen_view",
    "subtype_rates_view",
    "subtype_scan_view",
    "targets_view",
]

#: Items of the assumptions file whose names are not variables of the data contract.
_ITEMS = {"menopause": "Menopausal status", "centers": "Centres", "why": "Why these choices"}

#: A stored choice of the calibration file cited by its key: "(calibration.yaml type_table)".
_STORED = re.compile(r"\((calibration\.yaml) ([a-z_]+)\)")


def _name(key: str) -> str:
    label = _ITEMS.get(key) or lab.ALL.get(key, key.replace("_", " "))
    return label[0].upper() + label[1:] if label[1:2].islower() else label


def _in_sentence(text: str) -> str:
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def _level(key: object) -> str:
    return str(lab.ALL.get(str(key), key))


def _value(value: object) -> str:
    if isinstance(value, Mapping):
        shares = all(isinstance(v, float) and 0 <= v <= 1 for v in value.values()) and sum(value.values()) > 0.99
        if shares:
            return ", ".join(f"{_level(k)} {100 * v:.0f}%" for k, v in value.items())
        return ", ".join(f"{_level(k)} {v:+g}" if v else f"{_level(k)} 0" for k, v in value.items())
    return f"{value:g}" if isinstance(value, float) else str(value)


def assumption_values(spec: Mapping) -> list[str]:
    """The values of one assumption in words, one entry per parameter.

    >>> assumption_values({"mean": 48, "sd": 10, "min": 24, "max": 75, "source": "s"})
    ['mean 48, SD 10, range 24 to 75']
    >>> assumption_values({"probabilities": {"a": 0.05, "b": 0.95}, "t_correlation": 0.5, "source": "s"})
    ['a 5%, b 95%', 'latent correlation with T stage: 0.5']
    """
    values = {k: v for k, v in spec.items() if k != "source"}
    if set(values) == {"mean", "sd", "min", "max"}:
        return [f"mean {values['mean']}, SD {values['sd']}, range {values['min']} to {values['max']}"]
    if set(values) & {"fixed", "chosen"}:
        return ["listed in the table below"]
    parts = []
    for key, value in values.items():
        share = key.startswith("probability") or key.endswith("_rate")
        text = f"{100 * value:.0f}%" if share else _value(value)
        parts.append(text if key == "probabilities" else f"{lab.ALL.get(key, key.replace('_', ' '))}: {text}")
    return parts or ["no parameter (see its source)"]


#: Wording of the assumptions file said as the pages say it: the bone cohort counts recorded metastases (no
#: follow-up time, so no risk), a table's shape in words, and what keeping the centre codes' leading zeros means.
_WORDING = (
    (re.compile(r"the risk of bone metastasis\s+rises"), "the odds of recorded bone metastasis rise"),
    (re.compile(r"highest latent\s+risk"), "highest latent probability of recorded bone metastasis"),
    (re.compile(r"\b(\d)x(\d)\b"), r"\1 × \2"),
    (
        re.compile(r"with codes that keep their\s+leading zeros"),
        "each with a code written as text (such as 001, not 1), so that no leading zero is lost",
    ),
)


def _source(text: str) -> str:
    """An assumption's source or a calibration's reason in words, without code references.

    >>> _source("the risk of bone metastasis rises with T stage; the 2x3 table (microcalc.cohorts.x)")
    'the odds of recorded bone metastasis rise with T stage; the 2 × 3 table'
    """
    text = re.sub(r"\s*\(microcalc\.[\w.]+\)", "", text)  # a reference to the code, for analysts
    for pattern, replacement in _WORDING:
        text = pattern.sub(replacement, text)
    return words(_STORED.sub(lambda m: f"(file {m[1]}: {words(m[2])})", text).replace("`", ""))


def assumptions_view(assumptions: Mapping) -> Shown:
    """The assumptions file (``data/synthetic/assumptions.yaml``): cohort, item, one row per parameter.

    The sources, long texts, are listed by :func:`assumption_sources`.
    """
    rows = [
        {
            "Cohort": lab.COHORT_NAMES.get(cohort, cohort) if i == 0 else "",
            "Assumption": _name(item) if i == 0 else "",
            "Values": value,
        }
        for cohort, items in assumptions.items()
        for item, spec in items.items()
        for i, value in enumerate(assumption_values(spec))
    ]
    return show(pd.DataFrame(rows), caption="Shares are of all patients in the cohort unless a group is named.")


def assumption_sources(assumptions: Mapping) -> str:
    """The source of each assumption, a Markdown list ("**NACT, Age (years).** assumption: ...")."""
    return "\n".join(
        f"- **{lab.COHORT_NAMES.get(cohort, cohort)}, {_name(item)}.** {_source(spec['source'])}"
        for cohort, items in assumptions.items()
        for item, spec in items.items()
    )


def fixed_and_chosen_view(assumptions: Mapping) -> Shown:
    """Every value the synthetic cohorts show, fixed by the abstract or chosen (†), with how.

    The value names its cohort ("pCR by microcalcification (NACT cohort)"), so that it can wrap as the
    table's first column.
    """
    table = fixed_and_chosen_table(assumptions)
    frame = pd.DataFrame(
        {
            "Value": [
                f"{sentence_start(v)} ({lab.COHORT_NAMES.get(c, c)})"
                for v, c in zip(table["value"], table["cohort"], strict=True)
            ],
            "Fixed or chosen": table["fixed or chosen"],
            "How": [_source(h) for h in table["how"]],
        }
    )
    return show(frame)


#: The calibration's seed in words.
_SEED = "Random-number seed that makes the cohort reproducible"


def calibration_view(calibration: Mapping) -> Shown:
    """The calibration (``data/synthetic/calibration.yaml``): each setting in words, with its value.

    The reasons (the ``why`` entries, long texts) are listed by :func:`calibration_reasons`.
    """
    rows = []
    for cohort, settings in calibration.items():
        for key, value in settings.items():
            if key.startswith("why"):
                continue
            values = [f"{words(k)}: {_value(v)}" for k, v in value.items()] if isinstance(value, Mapping) else [value]
            for i, text in enumerate(values):
                rows.append(
                    {
                        "Cohort": lab.COHORT_NAMES.get(cohort, cohort) if i == 0 else "",
                        "Setting": (_SEED if key == "seed" else _name(key)) if i == 0 else "",
                        "Value": _value(text),
                    }
                )
    return show(pd.DataFrame(rows))


def calibration_reasons(calibration: Mapping) -> str:
    """Why the calibration chose what it chose, a Markdown list of its ``why`` entries in words."""
    return "\n".join(
        f"- **{lab.COHORT_NAMES.get(cohort, cohort)}, {_in_sentence(_name(key))}.** {_source(str(value))}"
        for cohort, settings in calibration.items()
        for key, value in settings.items()
        if key.startswith("why")
    )


def cohort_files(files: Mapping[str, str | Path], root: str | Path = ".") -> str:
    """The synthetic cohorts' files, a Markdown sentence naming each cohort and its file; their checksums are
    in the cohorts' README (``data/README.md``), not in the prose.

    ``files``: cohort (``nact_cohort``, ``bone_cohort``) -> path, as written by
    :func:`microcalc.cohorts.synthesize.write_cohorts`; paths are shown relative to ``root``, never absolute.
    """
    names = {"nact_cohort": "the NACT cohort", "bone_cohort": "the multicentre cohort"}
    base = project_path(root).resolve()
    listed = [
        f"{names.get(cohort, cohort)} in `{Path(path).resolve().relative_to(base).as_posix()}`"
        for cohort, path in files.items()
    ]
    return (
        f"Written: {' and '.join(listed)}. Their checksums (SHA-256, to tell whether a file was changed) are "
        "in the cohorts' README."
    )


def checksums(files: Mapping[str, str | Path], root: str | Path = ".") -> str:
    """The SHA-256 of each synthetic cohort's file, a Markdown list naming the cohort and the file.

    ``files``: cohort (``nact_cohort``, ``bone_cohort``) -> path, as written by
    :func:`microcalc.cohorts.synthesize.write_cohorts`; paths are shown relative to ``root`` (relative to the
    project root, as a notebook's ``output_dir``), never absolute.
    """
    names = {"nact_cohort": "NACT cohort", "bone_cohort": "Multicentre cohort"}
    base = project_path(root).resolve()
    return "\n".join(
        f"- {names.get(cohort, cohort)} (`{Path(path).resolve().relative_to(base).as_posix()}`): "
        f"SHA-256 `{sha256(path)}`"
        for cohort, path in files.items()
    )


#: The results of the target checks in words (the bone cohort's are its recorded metastases).
_RESULTS = {
    "bone metastasis": "Recorded bone metastasis",
    "bone type": "Bone metastasis type",
    "bone extent": "Bone metastasis extent",
    "bone univariable": "Bone cohort univariable",
    "bone multivariable": "Bone cohort multivariable",
}

#: Which odds ratio of a multivariable model a check's id is about.
_OR_TERMS = {"_or_calc_": "microcalcification", "_or_necrosis_": "MRI tumour necrosis"}

#: The checks' quantities in words.
_QUANTITIES = {"CI low": "Lower limit of the 95% CI", "CI high": "Upper limit of the 95% CI"}


def _target_result(ident: str, result: str) -> str:
    """ "NACT multivariable" for ``nact_or_necrosis_multi`` -> "NACT multivariable, OR of MRI tumour necrosis"."""
    text = _RESULTS.get(result, result)
    term = next((t for k, t in _OR_TERMS.items() if k in ident), None)
    return f"{text}, OR of {term}" if term and "multivariable" in result else text


def _target_quantity(text: str) -> str:
    return _QUANTITIES.get(text, re.sub(r"\b(\d)x(\d)\b", r"\1 × \2 table", words(text)))


#: A published target longer than this (a statement of the literature, not a number) is given in the caption.
_LONG_TARGET = 30


def targets_view(checks: pd.DataFrame) -> Shown:
    """The target checks (:func:`microcalc.cohorts.synthesize.targets`): published against achieved, met.

    Each multivariable odds ratio says which term it is (microcalcification or MRI tumour necrosis); the
    limits of a CI and a table's shape are said in words. The result and its quantity share the first
    column, which wraps; a published target in words (the literature's direction) is given in the caption.
    """
    targets = [
        f"{_target_result(i, r)}: {_in_sentence(_target_quantity(q))}"
        for i, r, q in zip(checks["id"], checks["result"], checks["quantity"], strict=True)
    ]
    published = checks["published"].astype(str).to_numpy()
    notes = [f"{t}: {p}" for t, p in zip(targets, published, strict=True) if len(p) > _LONG_TARGET]
    frame = pd.DataFrame(
        {
            "Target": targets,
            "Published": ["see below" if len(p) > _LONG_TARGET else p for p in published],
            "Synthetic cohort": checks["achieved"].to_numpy(),
            "Met": checks["met"].to_numpy(),
            "Criterion": checks["criterion"].to_numpy(),
        }
    )
    return show(frame, caption=" ".join(f"{n}." for n in notes))


def age_view(ages: Mapping[str, pd.Series]) -> Shown:
    """Age by cohort (``{cohort: age_summary}``): median, quartiles and range, in years."""
    frame = pd.DataFrame(ages).T.rename(index=lambda c: lab.COHORT_NAMES.get(c, c))
    headers = {"median": "Median", "q1": "Lower quartile", "q3": "Upper quartile", "min": "Youngest", "max": "Oldest"}
    return show(frame, index="Cohort", counts=list(headers), decimals=1, headers=headers, caption="Age in years.")


def _shares(text: str) -> str:
    """An assumed probability, or two ("0.12 / 0.15"), as percentages; "-" (none assumed) as missing.

    >>> _shares("0.12 / 0.15"), _shares("0.3"), _shares("-")
    ('12% / 15%', '30%', '–')
    """
    if text.strip() == "-":
        return MISSING
    return re.sub(r"\d+(?:\.\d+)?", lambda m: f"{100 * float(m[0]):.0f}%", text)


def covariate_view(summary: pd.DataFrame) -> Shown:
    """A covariate summary (:func:`microcalc.cohorts.synthesize.covariate_summary`), labelled."""
    frame = summary.assign(
        variable=summary["variable"].map(lambda v: lab.ALL.get(v, v)),
        level=summary["level"].map(_level),
        assumed=summary["assumed"].map(_shares),
    )
    headers = {
        "variable": "Variable",
        "level": "Level",
        "with microcalcification %": "With microcalcification (%)",
        "without %": "Without microcalcification (%)",
        "all %": "All (%)",
        "assumed": "Assumed (with / without microcalcification)",
    }
    return show(frame, headers=headers)


def subtype_scan_view(scan: pd.DataFrame, alpha: float) -> Shown:
    """The subtype-strength scan: for each fraction of the literature's log-odds, median P and share significant."""
    frame = pd.DataFrame(
        {
            "Fraction of the literature's subtype log-odds": [f"{s:.1f}" for s in scan["strength"]],
            "Median P of subtype": [format_p(p, label=False) for p in scan["median_p"]],
            f"Cohorts with P < {alpha} (%)": 100 * scan["share_significant"].to_numpy(),
        }
    )
    return show(frame, percent=[f"Cohorts with P < {alpha} (%)"])


def subtype_rates_view(rates: pd.Series) -> Shown:
    """pCR by molecular subtype (:func:`microcalc.cohorts.synthesize.subtype_pcr_rates`), as percentages."""
    frame = pd.DataFrame({"Molecular subtype": [_level(k) for k in rates.index], "pCR (%)": 100 * rates.to_numpy()})
    return show(frame)
