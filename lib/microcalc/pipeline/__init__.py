"""Running the analysis: notebooks, transactional site runs, the HTML edition, bundles, pooling, the CLI.

Importing this package makes the pipeline's processes do without the optional
``rfc3987_syntax``. jsonschema (imported by nbformat, papermill and nbconvert)
imports it to check the ``iri`` format, and it builds about 35 Earley parsers
at import: 1.9 s of every process on this machine
(python-jsonschema/jsonschema#1428). No notebook schema and nothing here
checks that format, so jsonschema then simply has no ``iri`` checker. A
process that imported it already keeps it.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None in sys.modules makes the import fail
