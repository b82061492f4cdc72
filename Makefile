# Two entry points for a fresh machine: `make demo` and `make test`.
# Everything installs into .venv; system packages (Chromium, ActiveMQ, Java) come from .ci/system-deps.
# `make demo` installs only what the demo needs; `make test` adds the test tools (Playwright, Spark,
# the Rucio client, Jupyter's kernel); `make lab` adds JupyterLab and opens the notebooks.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5006
STORE ?= data/demo-store
PIP := $(PY) -m pip install -q

.PHONY: install demo lab test test-fast lint system-deps bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.demo-stamp: pyproject.toml | $(PY)
	$(PIP) -e .
	touch $@

$(VENV)/.test-stamp: pyproject.toml | $(PY)
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.demo-stamp

$(VENV)/.lab-stamp: pyproject.toml | $(PY)
	$(PIP) -e '.[notebooks]'
	touch $@ $(VENV)/.demo-stamp

install: $(VENV)/.test-stamp

demo: $(VENV)/.demo-stamp
	$(VENV)/bin/hfpanel demo --store $(STORE) --port $(PORT)

lab: $(VENV)/.lab-stamp
	@test -d $(STORE) || $(VENV)/bin/hfpanel demo --no-serve --store $(STORE)
	HFPANEL_STORE=$(abspath $(STORE)) $(VENV)/bin/jupyter lab notebooks/

system-deps:
	bash .ci/system-deps

lint: $(VENV)/.test-stamp
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(VENV)/.test-stamp system-deps lint
	$(PY) -m pytest -q

# the fast part (no servers, browsers, Spark or demo backfill): seconds to a minute, for the edit loop
test-fast: $(VENV)/.test-stamp lint
	$(PY) -m pytest -q -m "not slow"

bench: $(VENV)/.test-stamp
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .venv-rucio-server $(STORE) $(STORE).site.yaml $(STORE).spool .pytest_cache
