# The compendium's two commands: `make all` (run everything) and `make test`.
# Both create $(VENV) (.venv unless VENV= says otherwise) with the newest supported
# Python on the PATH (3.13, 3.12, 3.11, then python3 if it is one of them), or the
# one given as PYTHON=, and install the pinned dependencies first.

SUPPORTED_PYTHONS := 3.13 3.12 3.11
PYTHON ?= $(shell for v in $(SUPPORTED_PYTHONS); do p=$$(command -v python$$v 2>/dev/null) && "$$p" -c '' 2>/dev/null && { echo "$$p"; exit; }; done; command -v python3 2>/dev/null)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Notebooks run in numbered order; the kernel starts in notebooks/.
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
export JUPYTER_PREFER_ENV_PATH := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: all notebooks report browser test unit nbval lab bench run sites check-run setup clean-venv

all: notebooks report

setup: $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11, 3.12 or 3.13 is needed: install one and rerun." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' || \
	  { echo "$(PYTHON) is not Python 3.11, 3.12 or 3.13; run: make PYTHON=/path/to/python3.x ..." >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version 2>&1))"
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (microcalc)" >/dev/null
	@touch $@

notebooks: $(STAMP)
	$(BIN)/python -m microcalc.execute $(NOTEBOOKS)

# The HTML edition of the executed notebooks (report/, not committed).
report: $(STAMP)
	$(BIN)/python -m microcalc.report

# Headless Chromium for the browser test of the HTML edition: installed from
# Debian's packages when missing and we are root (CI); otherwise say how.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "note: install chromium and chromium-driver for the browser test of the HTML edition" >&2; fi

test: $(STAMP) report browser
	$(BIN)/python -m pytest tests $(NBVAL_FLAGS) notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest tests

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL_FLAGS) notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_reconstruction.py
	$(BIN)/python benchmarks/bench_synthesize.py
	$(BIN)/python benchmarks/bench_scaling.py
	$(BIN)/python benchmarks/bench_notebooks.py

# Rerun the pipeline on a site's data: make run DATA=data/private/site_a NAME=site_a
run: $(STAMP)
	@test -n "$(DATA)" -a -n "$(NAME)" || { echo "usage: make run DATA=<folder> NAME=<run name>" >&2; exit 2; }
	$(BIN)/python -m microcalc.run --data-dir "$(DATA)" --name "$(NAME)"

# Several sites in one call: make sites SITES=sites.yaml
sites: $(STAMP)
	@test -n "$(SITES)" || { echo "usage: make sites SITES=<sites.yaml>" >&2; exit 2; }
	$(BIN)/python -m microcalc.run --sites "$(SITES)"

# Check that a rerun's notebooks execute (outputs not compared): make check-run NAME=site_a
check-run: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env runs/$(NAME)/notebooks

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

clean-venv:
	rm -rf $(VENV)
