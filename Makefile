# skyfence: `make demo` installs and runs the demo; `make test` installs and runs every check.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: demo test lint typecheck pytest mutate clean

demo: $(VENV)/.installed
	$(VENV)/bin/skyfence demo
	$(VENV)/bin/skyfence demo vaindloo-2025-09-19

test: $(VENV)/.installed-test lint typecheck pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check src tests scripts benchmarks

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

pytest: $(VENV)/.installed-test
	$(PY) -m pytest -q

# mutation testing of the core (slow: not part of `make test`); MUTATE=entries policy ...
# picks groups (python scripts/mutate.py --list); the score table is printed at the end
MUTATE ?=
mutate: $(VENV)/.installed-test
	$(PIP) install -q -e ".[mutate]"
	$(PY) scripts/mutate.py $(MUTATE)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml scripts/install-system-deps.sh | $(VENV)/bin/python
	bash scripts/install-system-deps.sh
	$(PIP) install -q -e ".[test]"
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) build *.egg-info
