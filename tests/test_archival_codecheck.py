"""codecheck.yml against the CODECHECK configuration specification 2.0, and its manifest against the abstract.

The rules are those of the specification's machine-readable list
(codecheckers/register, rules-2.0.yml; identifiers CC-CFG-*, CC-MET-001,
CC-BUN-001). The author's part (manifest, paper) is checked always; the
codechecker's part (codechecker, report, summary, certificate) once any of it
is present, since the codechecker adds it during the check.
"""

import re
from pathlib import Path

import pytest
import yaml

SPEC_VERSIONS = {f"https://codecheck.org.uk/spec/config/{v}/" for v in ("1.0", "2.0", "latest")}
CODECHECKER_FIELDS = ("codechecker", "report", "summary", "certificate")
PLACEHOLDER = re.compile(r"FIXME|TODO|XXXXX", re.I)
ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 MOD 11-2 check digit of an ORCID iD (ORCID support: 'Structure of the ORCID Identifier')."""
    total = 0
    for ch in orcid.replace("-", "")[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return orcid[-1] == ("X" if check == 10 else str(check))


def _strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def validate_codecheck(text: str, root: Path) -> list[tuple[str, str]]:
    """The MUST (and a few SHOULD) rules of spec 2.0 that ``text`` breaks, as (rule id, what is wrong)."""
    problems = []
    body = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", "%"))]
    if not body or body[0].strip() != "---":
        problems.append(("CC-CFG-002", "the file must start with the document marker ---"))
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as err:
        return problems + [("CC-CFG-001", f"not valid YAML: {err}")]
    if not isinstance(cfg, dict):
        return problems + [("CC-CFG-001", "the document is not a mapping")]
    if cfg.get("version") not in SPEC_VERSIONS:
        problems.append(("CC-CFG-015", f"version {cfg.get('version')!r} is not a published specification URL"))
    manifest = cfg.get("manifest")
    if not isinstance(manifest, list) or not manifest:
        problems.append(("CC-CFG-004", "a root-level manifest list is required"))
        manifest = []
    for i, item in enumerate(manifest):
        file = item.get("file") if isinstance(item, dict) else None
        if not file:
            problems.append(("CC-CFG-005", f"manifest item {i} has no file"))
            continue
        if Path(file).is_absolute() or ".." in Path(file).parts:
            problems.append(("CC-CFG-006", f"{file}: not relative to codecheck.yml"))
        elif not (root / file).is_file():
            problems.append(("CC-BUN-001", f"{file}: no such file"))
        if not item.get("comment"):
            problems.append(("CC-CFG-007", f"{file}: no comment"))
    paper = cfg.get("paper")
    if not isinstance(paper, dict):
        problems.append(("CC-CFG-016", "a root-level paper node is required"))
        paper = {}
    if not paper.get("title"):
        problems.append(("CC-CFG-017", "paper.title is required"))
    authors = paper.get("authors")
    if not isinstance(authors, list) or not authors:
        problems.append(("CC-CFG-018", "paper.authors needs at least one author"))
        authors = []
    for i, author in enumerate(authors):
        if not author.get("name"):
            problems.append(("CC-CFG-019", f"author {i} has no name"))
        orcid = str(author.get("ORCID", ""))
        if not ORCID.fullmatch(orcid):
            problems.append(("CC-CFG-020", f"author {i}: ORCID {orcid!r} is not a plain ORCID"))
        elif not orcid_checksum_ok(orcid):
            problems.append(("CC-MET-001", f"author {i}: ORCID {orcid} fails its check digit"))
    reference = paper.get("reference")
    if not reference:
        problems.append(("CC-CFG-021", "paper.reference is required"))
    elif not re.fullmatch(r"https?://\S+", str(reference)):
        problems.append(("CC-CFG-027", f"paper.reference {reference!r} is not a URL"))
    if "reference-other" in paper and not isinstance(paper["reference-other"], list):
        problems.append(("CC-CFG-029", "paper.reference-other must be a list"))
    for value in _strings(cfg):
        if PLACEHOLDER.search(value):
            problems.append(("CC-CFG-023", f"placeholder value {value!r}"))
    if any(f in cfg for f in CODECHECKER_FIELDS):
        checkers = cfg.get("codechecker")
        if not isinstance(checkers, list) or not checkers:
            problems.append(("CC-CFG-008", "a codechecker list with at least one entry is required"))
            checkers = []
        for i, checker in enumerate(checkers):
            if not checker.get("name"):
                problems.append(("CC-CFG-009", f"codechecker {i} has no name"))
        if not cfg.get("report"):
            problems.append(("CC-CFG-011", "report is required"))
        if not cfg.get("summary"):
            problems.append(("CC-CFG-024", "summary is required"))
        if not re.fullmatch(r"\d{4}-\d{3}", str(cfg.get("certificate", ""))):
            problems.append(("CC-CFG-026", f"certificate {cfg.get('certificate')!r} is not YYYY-NNN"))
    return problems


# The specification's own minimal example (spec/config/2.0, "Minimal example"), which must validate.
SPEC_MINIMAL_EXAMPLE = """---
version: https://codecheck.org.uk/spec/config/2.0/

manifest:
  - file: fig1.pdf
    comment: Figure 1

paper:
  title: "A good paper"
  authors:
    - name: Josiah Carberry
      ORCID: 0000-0002-1825-0097
  reference: https://doi.org/preprint.1

codechecker:
  - name: S. Eglen
    ORCID: 0000-0001-8607-8025

report: https://doi.org/abcde.12345
summary: |
  All material was provided and the figures could be reproduced.
certificate: 2026-001
"""


@pytest.fixture
def example_bundle(tmp_path):
    (tmp_path / "fig1.pdf").write_bytes(b"%PDF-1.4\n")
    return tmp_path


def test_the_validator_accepts_the_specifications_minimal_example(example_bundle):
    assert validate_codecheck(SPEC_MINIMAL_EXAMPLE, example_bundle) == []


@pytest.mark.parametrize(
    "change, rule",
    [
        (lambda t: t.replace("---\n", "", 1), "CC-CFG-002"),
        (lambda t: t.replace("file: fig1.pdf", "file: /tmp/fig1.pdf"), "CC-CFG-006"),
        (lambda t: t.replace("file: fig1.pdf", "file: fig2.pdf"), "CC-BUN-001"),
        (lambda t: t.replace("0000-0002-1825-0097", "0000-0002-1825-0098"), "CC-MET-001"),
        (lambda t: t.replace("0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-0097"), "CC-CFG-020"),
        (lambda t: t.replace("certificate: 2026-001", "certificate: 26-1"), "CC-CFG-026"),
        (lambda t: t.replace("https://doi.org/abcde.12345", "FIXME"), "CC-CFG-023"),
        (lambda t: t.replace("  reference: https://doi.org/preprint.1\n", ""), "CC-CFG-021"),
        (lambda t: t.replace("spec/config/2.0/", "spec/config/9.9/"), "CC-CFG-015"),
    ],
)
def test_the_validator_names_the_rule_a_broken_example_breaks(example_bundle, change, rule):
    assert rule in [p[0] for p in validate_codecheck(change(SPEC_MINIMAL_EXAMPLE), example_bundle)]


# The paper's author list could not be retrieved here and is not invented (see the comment in
# codecheck.yml): this is the one requirement of the author's part still open.
OPEN_RULES = {"CC-CFG-018"}


def test_codecheck_yml_meets_the_specification_but_for_the_documented_author_gap(root):
    text = (root / "codecheck.yml").read_text(encoding="utf-8")
    problems = validate_codecheck(text, root)
    assert [p for p in problems if p[0] not in OPEN_RULES] == []
    if any(p[0] == "CC-CFG-018" for p in problems):
        assert "could not be retrieved here" in text and "names are not invented" in text


def _manifest(root):
    return yaml.safe_load((root / "codecheck.yml").read_text(encoding="utf-8"))["manifest"]


def test_every_quoted_statement_is_verbatim_in_the_abstract(root):
    abstract = (root / "data/published/abstract.txt").read_text(encoding="utf-8")
    for item in _manifest(root):
        quotes = re.findall(r'"([^"]+)"', item["comment"])
        assert quotes, f"{item['file']}: the comment quotes no statement"
        for quote in quotes:
            assert quote in abstract, f"{item['file']}: {quote!r} is not in the abstract"


def test_the_manifest_lists_the_main_outputs(root):
    files = {item["file"] for item in _manifest(root)}
    assert {
        "data/results/replication.csv",
        "data/reconstructed/01_consistency.csv",
        "data/results/04_table1_nact.csv",
        "data/results/06_table1_bone.csv",
        "figures/07_or_published_vs_reproduced.png",
        "figures/04_forest_nact_pcr.png",
        "figures/06_forest_bone_metastasis.png",
    } <= files


def test_every_numeric_result_of_the_abstract_is_quoted_by_some_output(root):
    abstract = (root / "data/published/abstract.txt").read_text(encoding="utf-8")
    results = abstract.split("Results:", 1)[1].split("Conclusion:", 1)[0]
    statements = re.findall(r"\(\d+\.\d% vs \d+\.\d%, P [=<] 0\.\d+\)", results)
    statements += re.findall(r"OR = \d\.\d{3}[^\]]*\]", results)
    assert len(statements) == 10
    comments = " ".join(item["comment"] for item in _manifest(root))
    for statement in statements:
        assert statement in comments, f"no manifest output reproduces {statement!r}"
