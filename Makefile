# The compendium's two commands: `make all` (run everything) and `make test`.
# Both create $(VENV) (.venv unless VENV= says otherwise) with the newest supported
# Python on the PATH (3.13, 3.12, 3.11, then python3 if it is one of them), or the
# one given as PYTHON=, and install the pinned dependencies first.

SUPPORTED_PYTHONS := 3.13 3.12 3.11
PYTHON ?= $(shell for v in $(SUPPORTED_PYTHONS); do p=$$(command -v python$$v 2>/dev/null) && "$$p" -c '' 2>/dev/null && { echo "$$p"; exit; }; done; command -v python3 2>/dev/null)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Each notebook's start (its process's; it then waits for its inputs) and end, in seconds since
# the epoch, for the receipt of `make all`.
TIMINGS := $(VENV)/notebook_times.tsv
# Notebooks run in numbered order; the kernel starts in notebooks/.
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
export JUPYTER_PREFER_ENV_PATH := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: all notebooks dag report browser test test-slow test-all unit nbval lab bench run sites pool check-run setup lock lint clean-venv upgrade-check

# The causal diagram beside the notebooks (it reads none of their files), then the HTML edition,
# then the run's receipt (run_info.json, git-ignored): commit, time, Python, package-set hash,
# notebook times.
all: $(STAMP)
	@$(MAKE) --no-print-directory -j 2 dag notebooks
	@$(MAKE) --no-print-directory report
	$(BIN)/python -m microcalc.pipeline.receipt --timings $(TIMINGS) --out run_info.json

setup: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11, 3.12 or 3.13 is needed: install one and rerun." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' || \
	  { echo "$(PYTHON) is not Python 3.11, 3.12 or 3.13; run: make PYTHON=/path/to/python3.x ..." >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version 2>&1))"
	$(PYTHON) -m venv $(VENV)

# The whole environment comes from the hashed lock (requirements.lock, made by
# `make lock`); pip refuses any file whose hash differs. The project itself is
# then installed without dependencies.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (microcalc)" >/dev/null
	@touch $@

# All at once, each in its own kernel: a notebook runs its parameters and imports cells, then
# waits for the notebooks it reads from (microcalc.pipeline.runner.DEPENDS: 01 -> 02 -> 03 -> 04, 05, 06 -> 07;
# 02 -> 08, 09).
# A rerun reads back the bootstrap validation, the multiple imputation and the paper's reconstruction when
# nothing they depend on changed (microcalc.core.cache: kept under a SHA-256 of their data, arguments, code,
# Python and package versions). `make notebooks MICROCALC_RESULT_CACHE=` recomputes everything.
notebooks: export MICROCALC_RESULT_CACHE = .cache/results
notebooks: $(STAMP)
	@rm -f $(TIMINGS)
	$(BIN)/python -m microcalc.pipeline.execute --parallel --timings $(TIMINGS) $(NOTEBOOKS)

# The causal diagram of the models' assumptions (figures/00_dag.png, .svg); redrawn only when its
# code, the package set or a figure's bytes changed (record in .cache/dag.json; microcalc.dag.drawing).
dag: $(STAMP)
	$(BIN)/python -m microcalc.dag

# The HTML edition of the executed notebooks (report/, not committed), and its
# one-page summary printed to report/summary.pdf by headless Chromium.
# Rebuilt only when something it shows or renders it changed: the executed notebooks, the files
# they wrote, the glossary, the library and its templates (so `make test` after `make all` reuses it).
# These are the files microcalc.pipeline.report_site.edition_inputs names (tests/test_report_skip.py
# checks). Make compares their times; a rerun rewrites them with the same bytes and new times, so
# Python then compares their contents (SHA-256, with the options, Chromium's version and the
# package set, against report/.inputs.json): unchanged, it says so, touches the PDF and builds nothing.
REPORT_INPUTS = $(NOTEBOOKS) $(shell find lib/microcalc docs figures data/results data/reconstructed data/published -type f ! -path '*__pycache__*' 2>/dev/null)
report: report/summary.pdf

report/summary.pdf: $(STAMP) $(REPORT_INPUTS) | browser
	$(BIN)/python -m microcalc.pipeline.report_site --summary-pdf

# Headless Chromium (the browser test, and printing the summary PDF) and poppler-utils
# (pdftoppm, to check that PDF): installed from Debian's packages when missing and we
# are root (CI); otherwise say how.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v pdftoppm >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver poppler-utils >/dev/null; \
	else echo "note: install chromium, chromium-driver and poppler-utils for the HTML edition's summary PDF and its tests" >&2; fi

# In parallel (pytest-xdist, one worker per core), one test file at a time per worker; nbval's
# notebooks and the tests that read or check the outputs they rewrite run in one worker
# (tests/conftest.py, pytest_xdist_make_scheduler). `make test` runs every test not marked
# `slow` and nbval's full comparison of every notebook; `make test-slow` the slow ones (site
# runs, the sparse cohorts through notebooks 03-06, calibrations, simulations, a Dask cluster);
# `make test-all` (CI) both in one run.
XDIST := -n auto

test: $(STAMP) report browser
	$(BIN)/python -m pytest $(XDIST) -m "not slow" tests lib/microcalc $(NBVAL_FLAGS) notebooks

test-slow: $(STAMP) report browser
	$(BIN)/python -m pytest $(XDIST) -m slow tests

test-all: $(STAMP) report browser
	$(BIN)/python -m pytest $(XDIST) tests lib/microcalc $(NBVAL_FLAGS) notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) tests lib/microcalc

# One BLAS thread per process for the notebooks and the tests: their matrices are small, and on
# a busy 2-core machine a multi-threaded BLAS made each small QR decomposition 40 times slower.
# Processes run side by side instead (the notebooks' kernels get the same from microcalc.pipeline.execute).
notebooks test test-slow test-all unit nbval: export OMP_NUM_THREADS = 1
notebooks test test-slow test-all unit nbval: export OPENBLAS_NUM_THREADS = 1
notebooks test test-slow test-all unit nbval: export MKL_NUM_THREADS = 1

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL_FLAGS) notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_reconstruction.py
	$(BIN)/python benchmarks/bench_synthesize.py
	$(BIN)/python benchmarks/bench_scaling.py
	$(BIN)/python benchmarks/bench_vs_r.py
	$(BIN)/python benchmarks/bench_notebooks.py
	$(BIN)/python benchmarks/bench_planning.py

# Rerun the pipeline on a site's data: make run DATA=data/private/site_a NAME=site_a
# The values reach Python through the environment, unexpanded ($(value ...)), and no
# recipe line contains them: a name such as x$(touch /tmp/p) or `cmd` runs nothing.
# (unexport: make would otherwise expand them, $(shell ...) included, to export them itself.)
unexport DATA NAME SITES BUNDLES WORKERS SCHEDULER
run sites pool check-run: export MICROCALC_DATA = $(value DATA)
run sites pool check-run: export MICROCALC_NAME = $(value NAME)
run sites pool check-run: export MICROCALC_SITES = $(value SITES)
run sites pool check-run: export MICROCALC_BUNDLES = $(value BUNDLES)
run sites pool check-run: export MICROCALC_WORKERS = $(value WORKERS)
run sites pool check-run: export MICROCALC_SCHEDULER = $(value SCHEDULER)

run: $(STAMP)
	@$(BIN)/python -m microcalc.pipeline.run --from-env run

# Several sites in one call, then pooled from their results bundles into runs/pooled/:
# make sites SITES=sites.yaml [WORKERS=2] [SCHEDULER=tcp://host:8786]
# (sites run in parallel on a local process pool, or on a Dask cluster when SCHEDULER is given)
sites: $(STAMP)
	@$(BIN)/python -m microcalc.pipeline.run --from-env sites
	@$(BIN)/python -m microcalc.pipeline.consortium --from-env sites

# Pool results bundles received from other sites (folders inside the project) into runs/pooled/:
# make pool BUNDLES="runs/received/site_a/bundle runs/received/site_b/bundle"
pool: $(STAMP)
	@$(BIN)/python -m microcalc.pipeline.consortium --from-env pool

# Check that a rerun's notebooks execute (outputs not compared): make check-run NAME=site_a
check-run: $(STAMP)
	@$(BIN)/python -m microcalc.pipeline.run --from-env check-run

# Regenerate the lock after changing a pin in pyproject.toml: one universal lock
# (environment markers) for every supported Python from 3.11 on, with hashes.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	  --custom-compile-command "make lock" --quiet -o requirements.lock

# Licences and copyright of every file (REUSE).
# Code checks, every one run even when an earlier one fails: licences and copyright of every file (REUSE);
# ruff lint and format over the library, tests and benchmarks, and over the notebooks through nbQA; mypy on
# lib/ (its strictness in pyproject.toml); the layering of the library (import-linter, contracts in pyproject.toml).
# Tools run with the venv's Python, so a venv copied from elsewhere still checks this tree.
lint: $(STAMP)
	@set -x; status=0; \
	$(BIN)/python -m reuse lint || status=1; \
	$(BIN)/python -m ruff check lib tests benchmarks || status=1; \
	$(BIN)/python -m ruff format --check lib tests benchmarks || status=1; \
	$(BIN)/python -m nbqa ruff notebooks || status=1; \
	$(BIN)/python -m nbqa "ruff format" notebooks --check || status=1; \
	$(BIN)/python -m mypy || status=1; \
	$(BIN)/python $(BIN)/lint-imports || status=1; \
	exit $$status

# Does an upgrade change any number? Builds a throwaway environment in runs/upgrade/
# (from requirements.lock, else pyproject's pins, with the named changes), runs every
# notebook and the unit tests in a copy of the committed tree, compares every number:
#   make upgrade-check PACKAGES="scipy==1.17.0"   (or LATEST=1; RTOL=1e-9; TESTS="tests/test_x.py"
#   or TESTS=none; NBVAL=0 skips nbval over the committed notebooks)
upgrade-check: $(STAMP)
	$(BIN)/python -m microcalc.pipeline.upgrade --packages "$(PACKAGES)" $(if $(LATEST),--latest) \
	  $(if $(RTOL),--rtol $(RTOL)) $(if $(TESTS),--tests "$(TESTS)") $(if $(filter 0,$(NBVAL)),--no-nbval)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean-venv:
	rm -rf $(VENV)
