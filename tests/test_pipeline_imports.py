"""The pipeline's processes do without jsonschema's slow optional ``rfc3987_syntax``, and lose nothing they use."""

import subprocess
import sys

_PROBE = """
import sys, time
t = time.perf_counter()
import microcalc.pipeline, nbformat, jsonschema
print(sys.modules["rfc3987_syntax"] is None)
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
nbformat.validate(nb)
bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
bad.cells[0].source = 1
try:
    nbformat.validate(bad)
    print("invalid accepted")
except nbformat.validator.NotebookValidationError:
    print("invalid refused")
checker = jsonschema.Draft7Validator.FORMAT_CHECKER
print(checker.conforms("2026-12-01", "date"), checker.conforms("2026-13-01", "date"), "iri" in checker.checkers)
"""


def test_importing_the_pipeline_blocks_rfc3987_syntax_and_notebooks_still_validate():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "True"  # blocked: jsonschema did not import it
    assert out[1] == "invalid refused"  # nbformat's validation still refuses an invalid notebook
    # jsonschema's other format checks still work; only "iri" is left without a checker
    assert out[2] == "True False False"
