# Two entry points for a fresh machine: `make demo` and `make test`.
# Everything installs into .venv; system packages (Chromium) come from .ci/system-deps.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 5006

.PHONY: install demo test system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash .ci/system-deps

demo: install
	$(VENV)/bin/hfpanel demo --store data/demo-store --port $(PORT)

test: install system-deps
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .venv-rucio-server data/demo-store data/demo-store.site.yaml data/demo-store.spool .pytest_cache
