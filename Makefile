# skyfence: `make demo` installs and runs the demo; `make test` installs and runs every check.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: demo test lint typecheck pytest fuzz mutate clean web serve-demo

demo: $(VENV)/.installed web
	$(VENV)/bin/skyfence demo
	$(VENV)/bin/skyfence demo vaindloo-2025-09-19

# the operators' screen on the built-in scenario: open the address it prints
serve-demo: $(VENV)/.installed web
	$(VENV)/bin/skyfence serve --demo

# the web page's front-end packages, vendored from npm (idempotent; no network at run time);
# Debian's npm is installed first when there is no npm on the PATH
web:
	command -v npm >/dev/null 2>&1 || bash scripts/install-system-deps.sh npm
	bash scripts/vendor-web.sh

test: $(VENV)/.installed-test web lint typecheck pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --no-cache src tests scripts benchmarks

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy

# two pytest-xdist workers: many tests wait on processes, sockets and a browser; the groups
# and turns they keep are in tests/conftest.py (PYTEST_WORKERS=0: one process)
PYTEST_WORKERS ?= 2
pytest: $(VENV)/.installed-test web
	$(PY) -m pytest -q -n $(PYTEST_WORKERS)

# mutation testing of the core (slow: not part of `make test`); MUTATE=entries policy ...
# picks groups (python scripts/mutate.py --list); the score table is printed at the end
MUTATE ?=
mutate: $(VENV)/.installed-test
	$(PIP) install -q -e ".[mutate]"
	$(PY) scripts/mutate.py $(MUTATE)

# coverage-guided fuzzing (atheris) of every parser and loader, FUZZ_SECONDS per target;
# a crash is written as fuzz/crash-*: add it to fuzz/corpus/<target>/ (a regression test)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= sbs sbs_abort beast rawhex asterix pcap pcapng csv parquet geojson policy config scenario dossier
fuzz: $(VENV)/.installed-test
	$(PIP) install -q "atheris>=2.3"
	for t in $(FUZZ_TARGETS); do \
		$(PY) fuzz/atheris_main.py $$t -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 \
			-timeout=30 -artifact_prefix=fuzz/ || exit 1; done

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
	rm -rf $(VENV) build *.egg-info web/node_modules src/skyfence/service/static/vendor
