"""microcalc: the helper library of the breast-microcalcification compendium.

Sub-packages, from the bottom layer up (a layer imports only the layers below
it; ``make lint`` enforces this with import-linter, see ``pyproject.toml``):

``core``
    Project paths, deterministic output files, notebook conveniences, a
    parallel map. Knows nothing of statistics or of this study.
``abstract``
    Reading reported numbers (``published``), tests of 2 x k tables
    (``pvalues``), tables consistent with reported numbers (``reconstruct``),
    GRIM and OR-CI-P coherence (``consistency``), numbers in prose (``textcheck``).
``analysis``
    General statistics: descriptive tables and tests (``stats``), logistic
    models (``models``), effects on the risk scale (``effects``), imputation,
    performance, clustered data, multiplicity, meta-analysis (``meta``),
    tables, tables for reading (``display``), grouped category levels
    (``levels``), plots, tidy results. Never imports the study.
``study``, ``paper``, ``labels``
    What this study is (its specification), the paper's reconstructions, and
    the clinical labels the pages display.
``cohorts``
    The data contract, reading and cleaning a site's files (``clean``), and
    the synthetic cohorts calibrated to the paper (``synthesize``).
``replicate``, ``dag``, ``planning``, ``narrative``
    The replication criteria, the causal diagram, sample-size planning, and
    the sentences and Key messages of the analysis pages.
``planning_checks``
    Closed forms that check the planning simulation, and its figure.
``pipeline``
    Executing notebooks, transactional site runs, the HTML edition, results
    bundles and their pooling, the command line, upgrade checks.
"""

__version__ = "0.1.0"
