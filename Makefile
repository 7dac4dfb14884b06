# The two commands of the README:
#   make run    install everything, build the sample index if there is none, serve it
#   make test   install everything, run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast install install-test index bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# What serving needs: the bundled encoders, no torch.
$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e .
	touch $@

# What the tests need besides: the sentence-transformers extra (its tests run a tiny local
# model) with torch first, pinned to the CPU build (an unpinned torch pulls gigabytes of
# CUDA packages), and Milvus Lite (the Milvus engine's tests).
$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e '.[st,test,milvus]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/papersearch serve --source data/digests --host $(HOST) --port $(PORT)

index: install
	$(BIN)/papersearch index build --source data/digests

test: install-test
	$(PY) -m pytest tests

# The fast tier: unit tests over the shared sample indexes; no servers, browsers,
# subprocesses, real encoders or builds of their own (tests/conftest.py marks those).
test-fast: install-test
	$(PY) -m pytest tests -m "not slow and not build" -q

bench: install-test
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
