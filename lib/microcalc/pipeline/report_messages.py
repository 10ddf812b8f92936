"""The key messages and finding sentences of the edition's index page, from the tidy results (part of
:mod:`microcalc.pipeline.report`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from microcalc.core.paths import project_path
from microcalc.replicate.readable import recorded_measure

__all__ = ["clinical_answer", "key_messages", "finding_sentences", "open_reconstructions"]

#: Each reconstruction of notebook 01 in words, as the index names it (bone metastases are the recorded ones).
_RECONSTRUCTIONS = {
    "nact_pcr": "pCR by microcalcification in the NACT cohort",
    "nact_necrosis": "MRI necrosis by microcalcification among the NACT patients with an MRI assessment",
    "bone_met": "recorded bone metastasis by microcalcification in the multicentre cohort",
    "bone_type_2x2": "osteolytic against other bone metastases",
    "bone_type_2x3": "the three types of bone metastasis (osteolytic, osteoblastic, mixed)",
    "bone_extent_2x2": "whole-body against other bone metastases",
    "bone_extent_2x3": "the three extents of bone metastasis (whole body, axial, appendicular)",
}


_TEST_NAMES = {
    "fisher_exact": "Fisher's exact test",
    "pearson_chi2": "Pearson's χ² test",
    "yates_chi2": "the Yates-corrected χ² test",
    "mann_whitney": "the Mann-Whitney test",
    "logistic_wald": "the Wald test of a logistic regression",
}


def open_reconstructions(overview) -> str:
    """The reconstructions the abstract leaves open, each named in words with its number of possible tables.

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"reconstruction": ["nact_necrosis", "bone_type_2x3"], "what": ["", ""],
    ...                      "feasible tables": ["43", "2"], "status": ["not unique", "not unique"]})
    >>> text = open_reconstructions(rows)
    >>> text.startswith("43 possible tables for MRI necrosis by microcalcification among the NACT patients with an MRI")
    True
    >>> text.endswith("; and 2 for the three types of bone metastasis (osteolytic, osteoblastic, mixed)")
    True
    """
    named = [
        f"{r['feasible tables']}{' possible tables' if k == 0 else ''} for "
        f"{_RECONSTRUCTIONS.get(r['reconstruction'], r['what'])}"
        for k, (_, r) in enumerate(overview.iterrows())
    ]
    return "; and ".join(["; ".join(named[:-1]), named[-1]]) if len(named) > 1 else "".join(named)


def _row(frame, ident: str):
    hit = frame[frame["id"] == ident] if frame is not None else None
    return hit.iloc[0] if hit is not None and len(hit) else None


def clinical_answer(output_dir: str | Path = ".", synthetic: bool = True) -> str:
    """The clinical answer of this run, in one sentence: each adjusted OR with its 95% CI, and the same effect
    per 100 patients (the standardised risk difference of notebooks 04 and 06, with its 95% CI).

    On the bundled data the sentence says that these numbers check the pipeline on synthetic cohorts, and
    are no evidence about patients. A file or row that is missing gives a sentence saying which notebook has
    not run.
    """
    results = project_path(output_dir) / "data" / "results"
    nact, bone = _read_csv(results / "04_results.csv"), _read_csv(results / "06_results.csv")
    parts = []
    for frame, notebook, or_id, rd_id, odds, more, fewer in (
        (nact, "04", "nact_or_calc_multi", "nact_rd_calc", "non-pCR", "fewer pCRs", "more pCRs"),
        (
            bone,
            "06",
            "bone_or_calc_multi",
            "bone_rd_calc",
            "recorded bone metastasis",
            "more recorded bone metastases",
            "fewer recorded bone metastases",
        ),
    ):  # the difference is in the proportion with the odds' event (non-pCR: a positive one means fewer pCRs)
        odds_ratio, difference = _row(frame, or_id), _row(frame, rd_id)
        if odds_ratio is None or difference is None:
            parts.append(f"the analysis of {odds} (notebook {notebook}) has not been run")
            continue
        o, lo, hi = (float(odds_ratio[c]) for c in ("estimate", "ci_low", "ci_high"))
        d, dlo, dhi = (float(difference[c]) for c in ("estimate", "ci_low", "ci_high"))
        low, high = (dlo, dhi) if d >= 0 else (-dhi, -dlo)
        parts.append(
            f"{'higher' if o > 1 else 'lower'} odds of {odds} (adjusted OR {o:.2f}, 95% CI {lo:.2f} to {hi:.2f}), "
            f"that is about {abs(d):.0f} {more if d >= 0 else fewer} per 100 patients with microcalcification "
            f"(95% CI {low:.0f} to {high:.0f} per 100)"
        )
    lead = (
        "The pipeline's check on the synthetic cohorts (not evidence about patients): with microcalcification, "
        if synthetic
        else "On this site's data, with microcalcification: "
    )
    return lead + "; and ".join(parts) + "."


def _read_csv(path: Path):
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.is_file() else None


def key_messages(output_dir: str | Path = ".", synthetic: bool = True) -> list[str]:
    """The index's key messages, as plain sentences, each computed from a file the notebooks wrote.

    From notebook 01 (``data/reconstructed/``, the paper's numbers, the same for
    every run): the tables the abstract fixes uniquely, any printed P matched only
    by a test the paper does not name, and whether the published odds ratios,
    CIs and P values agree with one another. Then, from notebook 07: on the
    bundled data the reproduction check's counts (:func:`microcalc.replicate.summary`),
    on a site's data the findings' headline (:func:`finding_sentences` gives one
    sentence per finding, shown under it).
    A file that is missing gives a sentence saying which notebook has not run.
    """
    import pandas as pd

    from microcalc import replicate

    rec = project_path("data/reconstructed")
    out: list[str] = []
    overview = _read_csv(rec / "01_reconstruction_overview.csv")
    if overview is None:
        out.append("The reconstruction of the paper's tables (notebook 01) has not been run.")
    else:
        unique = overview[(overview["status"] == "unique") & overview["reconstruction"].isin(["nact_pcr", "bone_met"])]
        fixed = []
        for _, row in unique.iterrows():
            a, b = (part.strip() for part in row["table"].split("vs"))
            what = _RECONSTRUCTIONS.get(row["reconstruction"], row["what"])
            fixed.append(
                f"{what}: {a.replace('/', ' of ')} with microcalcification against {b.replace('/', ' of ')} without"
            )
        open_ = overview[overview["status"] != "unique"]
        text = "The abstract's numbers fix one table each for " + "; and for ".join(fixed) + "."
        if len(open_):
            text += f" It leaves {len(open_)} others open: {open_reconstructions(open_)}."
        out.append(text)
    if (rec / "01_consistency.csv").is_file():
        from microcalc.abstract.published import load_published
        from microcalc.paper import VERDICTS, read_consistency
        from microcalc.paper import verdicts as p_verdicts

        measures = {}
        findings_csv = _read_csv(project_path("data/results/replication_findings.csv"))
        if findings_csv is not None:
            measures = dict(zip(findings_csv["id"], findings_csv["measure"], strict=True))
        table = read_consistency(rec / "01_consistency.csv")
        verdicts = p_verdicts(table, load_published())
        for _, row in verdicts[verdicts["verdict"] == VERDICTS[1]].iterrows():
            hits = table.loc[(table["id"] == row["id"]) & table["reproduces"], "test"]
            tests = ", ".join(_TEST_NAMES.get(t, t) for t in sorted(set(hits)))
            named = str(row["paper names"]).replace("χ2", "χ²")
            out.append(
                f"The printed {row['reported P']} ({measures.get(row['id'], row['id'])}) is reproduced only "
                f"by {tests}, a test the paper does not name for it (it names “{named}”)."
            )
    coherence = _read_csv(rec / "01_or_ci_p_coherence.csv")
    if coherence is not None:
        ok = coherence[(coherence["P consistent"] == "True") & (coherence["OR consistent"] == "True")]
        text = (
            f"{len(ok)} of the {len(coherence)} published odds ratios are internally consistent with their "
            "95% CIs and P values"
        )
        bad = sorted(set(coherence["id"]) - set(ok["id"]))
        out.append(text + (f"; not consistent: {', '.join(bad)}." if bad else "."))
    out.append(clinical_answer(output_dir, synthetic))
    results = project_path(output_dir) / "data" / "results"
    if synthetic:
        table = _read_csv(results / "replication.csv")
        out.append(
            "Reproduction check of the pipeline on the synthetic data (not a replication): "
            + (replicate.summary(table) + "." if table is not None else "the report (notebook 07) has not been run.")
        )
    else:
        findings = results / "replication_findings.csv"
        if findings.is_file():
            frame = pd.read_csv(findings)
            out.append(replicate.findings_headline(frame) + ".")
        else:
            out.append("The replication report (notebook 07) has not been run on these data.")
    return out


def finding_sentences(output_dir: str | Path) -> list[str]:
    """On a site's data, one sentence per finding (:func:`microcalc.replicate.findings_sentences`), or none."""
    import pandas as pd

    from microcalc.replicate import findings_sentences

    findings = project_path(output_dir) / "data" / "results" / "replication_findings.csv"
    if not findings.is_file():
        return []
    frame = pd.read_csv(findings)
    labels = _finding_labels(frame)
    return [
        re.sub(r"^`([^`]+)`", lambda m: labels.get(m.group(1), m.group(1)), s).replace("`", "")
        for s in findings_sentences(frame)
    ]


def _capitalised(text: str) -> str:
    """``text`` starting with a capital, unless its first word is an abbreviation ("OR", "pCR" stay)."""
    return text if text[1:2].isupper() or text[:1].isupper() else text[:1].upper() + text[1:]


def _finding_labels(findings) -> dict[str, str]:
    """Each finding's id to its measure in words, saying which odds ratios are adjusted."""
    model = {"_uni": ", unadjusted", "_multi": ", adjusted"}
    return {
        i: _capitalised(recorded_measure(m)) + next((v for k, v in model.items() if i.endswith(k)), "")
        for i, m in zip(findings["id"], findings["measure"], strict=True)
    }


def _key_results(output_dir: Path, synthetic: bool) -> str:
    """The index's table of the paper's findings: published beside this run (HTML, every cell escaped)."""
    import pandas as pd

    from microcalc.replicate import findings_display
    from microcalc.replicate.readable import AGREEMENT_WORDS
    from microcalc.study import FINDING_IDS

    results = output_dir / "data" / "results"
    findings = _read_csv(results / "replication_findings.csv")
    if findings is None:
        return "<p>The replication report (notebook 07) has not been run: no results to show.</p>"
    measure = _finding_labels(findings)
    if synthetic:
        score = _read_csv(results / "replication.csv")
        if score is None:
            return "<p>The reproduction check (notebook 07) has not been run.</p>"
        score = score.set_index("id")
        head = ["Finding", "Published", "This run", "Agreement"]
        rows = [
            [
                measure.get(i, i),
                score.at[i, "published"],
                score.at[i, "reproduced"],
                AGREEMENT_WORDS.get(score.at[i, "agreement"], score.at[i, "agreement"]),
            ]
            for i in FINDING_IDS
            if i in score.index
        ]
    else:
        shown = findings_display(pd.read_csv(results / "replication_findings.csv"))
        head = ["Finding", "Published", "This site", "Same direction, significant", "Inside 95% prediction interval"]
        rows = [
            [measure.get(f.split(":")[0], f), p, s, c1, c3]
            for f, p, s, c1, c3 in shown[
                [
                    "finding",
                    "published",
                    "this site",
                    "1 same direction, significant",
                    "3 inside 95% prediction interval",
                ]
            ].itertuples(index=False)
        ]
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return (
        '<table class="mc-results"><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head)
        + f"</tr></thead><tbody>{cells}</tbody></table>"
    )
