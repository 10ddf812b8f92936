"""What the HTML edition's pages say, checked on their HTML (no browser needed).

Cell tags fold, show or remove code as documented in ``microcalc.pipeline.report``; a
site run's pages say whose data they show and carry no synthetic-data banner;
the key messages are the sentences computed from notebook 01's and notebook
07's files (the tables 32/155 vs 50/158 and 71/611 vs 28/571 follow from the
abstract's 20.6% of 155, 31.6% of 158, 11.6% of 611 and 4.9% of 571); every
image gets an alt text.
"""

import html
import re

import nbformat
import pandas as pd

from microcalc import replicate
from microcalc.core.paths import project_path
from microcalc.pipeline.report import QUESTION, alt_texts, build_report, finding_sentences, key_messages
from microcalc.pipeline.report_messages import clinical_answer
from microcalc.replicate.readable import recorded_measure

BANNER = "cannot show whether microcalcification predicts pCR"


def _tagged_notebook(folder):
    cells = [nbformat.v4.new_markdown_cell("# 01 · Tags\n\n**Question.** Do tags work?\n\n## Part one\n\nText.")]
    for tag in ("remove-cell", "remove-input", "show-code", None):
        cell = nbformat.v4.new_code_cell(
            f"print('code {tag}')",
            execution_count=1,
            outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"output {tag}\n")],
        )
        if tag:
            cell.metadata["tags"] = [tag]
        cells.append(cell)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "01_tags.ipynb")
    return folder


def test_cell_tags_remove_show_or_fold_the_code(tmp_path):
    index = build_report(_tagged_notebook(tmp_path / "nb"), tmp_path, site=tmp_path / "site")
    page = (index.parent / "01_tags.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    assert "output remove-cell" not in text and "code remove-cell" not in text
    assert "output remove-input" in text and "code remove-input" not in text
    folded = re.findall(r'<details class="mc-code">(.*?)</details>', page, re.S)
    folded_text = [re.sub(r"<[^>]+>", "", f) for f in folded]
    assert any("code None" in f for f in folded_text)  # untagged: folded
    assert "code show-code" in text and not any("code show-code" in f for f in folded_text)  # shown


def test_a_site_run_says_whose_data_and_carries_no_synthetic_banner(tmp_path):
    index = build_report(
        _tagged_notebook(tmp_path / "nb"), tmp_path, site=tmp_path / "site", synthetic=False, label="site_x"
    )
    for page in index.parent.glob("*.html"):
        html = page.read_text()
        assert 'class="mc-banner mc-site"' in html and "the data of run site_x" in html, page.name
        assert BANNER not in html, page.name


def test_the_bundled_data_pages_carry_the_synthetic_banner(tmp_path):
    index = build_report(_tagged_notebook(tmp_path / "nb"), tmp_path, site=tmp_path / "site", synthetic=True)
    for page in index.parent.glob("*.html"):
        assert BANNER in page.read_text(), page.name


def test_key_messages_are_computed_from_the_notebooks_files():
    messages = key_messages(".", synthetic=True)
    assert 4 <= len(messages) <= 6
    assert "32 of 155 with microcalcification against 50 of 158 without" in messages[0]
    assert "71 of 611 with microcalcification against 28 of 571 without" in messages[0]
    overview = pd.read_csv(project_path("data/reconstructed/01_reconstruction_overview.csv"))
    assert f"leaves {int((overview['status'] != 'unique').sum())} others open" in messages[0]
    assert any("P = 0.029" in m and "Fisher's exact test" in m and "does not name" in m for m in messages)
    coherence = pd.read_csv(project_path("data/reconstructed/01_or_ci_p_coherence.csv"))
    both = int((coherence["P consistent"] & coherence["OR consistent"]).sum())
    assert f"{both} of the {len(coherence)} published odds ratios are internally consistent" in " ".join(messages)
    score = pd.read_csv(project_path("data/results/replication.csv"), dtype=str, keep_default_na=False)
    assert messages[-1].endswith(replicate.summary(score) + ".")
    assert messages[-1].startswith("Reproduction check of the pipeline")


def test_key_messages_of_a_site_run_give_the_findings_headline(tmp_path):
    results = tmp_path / "data" / "results"
    results.mkdir(parents=True)
    findings = pd.read_csv(project_path("data/results/replication_findings.csv"))
    findings.to_csv(results / "replication_findings.csv", index=False)
    messages = key_messages(tmp_path, synthetic=False)
    assert messages[-1] == replicate.findings_headline(findings) + "."
    sentences = finding_sentences(tmp_path)
    assert len(sentences) == len(findings) and not any("`" in s or s.startswith("nact_") for s in sentences)
    assert sentences[0].startswith("pCR rate, microcalcification vs none: ")
    assert sentences[0].endswith(replicate.findings_sentences(findings)[0].split(": ", 1)[1])
    assert not any("Reproduction check" in m for m in messages)


def test_every_image_gets_an_alt_text():
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("## pCR by microcalcification\n\nThe pCR rate in each group. More text."),
            nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output("display_data", data=png)]),
            nbformat.v4.new_code_cell(
                "plot()", outputs=[nbformat.v4.new_output("display_data", data=png, metadata={"alt": "Own alt text"})]
            ),
        ]
    )
    alt_texts(nb)
    assert nb.cells[1].outputs[0].metadata["mc_alt"] == "Figure: pCR by microcalcification. The pCR rate in each group."
    assert nb.cells[2].outputs[0].metadata["mc_alt"] == "Own alt text"


def test_the_clinical_answer_gives_the_adjusted_ors_and_the_effect_per_100(tmp_path):
    """From notebooks 04 and 06's results: the adjusted OR of non-pCR and of recorded bone metastasis with their
    95% CIs, and the standardised risk differences said per 100 patients (non-pCR up means fewer pCRs)."""
    nact = pd.read_csv(project_path("data/results/04_results.csv")).set_index("id")
    bone = pd.read_csv(project_path("data/results/06_results.csv")).set_index("id")
    answer = clinical_answer(".", synthetic=True)
    assert answer.startswith("The pipeline's check on the synthetic cohorts (not evidence about patients)")
    o = nact.loc["nact_or_calc_multi"]
    assert f"adjusted OR {o['estimate']:.2f}, 95% CI {o['ci_low']:.2f} to {o['ci_high']:.2f}" in answer
    assert nact.loc["nact_rd_calc", "estimate"] > 0  # more non-pCR with microcalcification: fewer pCRs
    assert f"about {nact.loc['nact_rd_calc', 'estimate']:.0f} fewer pCRs per 100 patients" in answer
    assert f"about {bone.loc['bone_rd_calc', 'estimate']:.0f} more recorded bone metastases per 100" in answer
    assert f"adjusted OR {bone.loc['bone_or_calc_multi', 'estimate']:.2f}" in answer
    assert "risk" not in answer
    assert clinical_answer(".", synthetic=False).startswith("On this site's data")
    # a run whose notebooks 04 and 06 have not written their results says so
    missing = clinical_answer(tmp_path, synthetic=False)
    assert "non-pCR (notebook 04) has not been run" in missing and "(notebook 06) has not been run" in missing
    assert clinical_answer(".", synthetic=True) in key_messages(".", synthetic=True)


def test_bone_metastases_are_called_recorded_and_the_objective_is_quoted():
    # the measures as data/published/abstract_statistics.csv words them
    assert recorded_measure("bone metastasis rate") == "recorded bone metastasis rate"
    assert recorded_measure("OR of bone metastasis, adjusted") == "OR of recorded bone metastasis, adjusted"
    assert recorded_measure("bone metastasis extent") == "bone metastasis extent"
    messages = " ".join(key_messages(".", synthetic=True))
    assert "χ2" not in messages and ") (" not in messages  # no nested brackets, χ² as it is written


def test_the_index_asks_its_own_question_and_quotes_the_papers_objective(tmp_path):
    """The abstract: "The study aimed to analyze ... the risk of bone metastases." is the paper's words, quoted."""
    index = build_report(_tagged_notebook(tmp_path / "nb"), tmp_path, site=tmp_path / "site", synthetic=True)
    text = html.unescape(re.sub(r"<[^>]+>", "", index.read_text()))
    assert QUESTION in text and "higher odds of recorded bone metastasis" in QUESTION
    assert "The paper's objective, as its abstract states: “The study aimed to analyze" in text
    assert "risk of bone metastases.”" in text  # the word risk only inside the quote
    assert "predicts pCR or recorded bone metastasis" in text  # the banner
