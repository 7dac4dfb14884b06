# The two commands of the README:
#   make run    install everything, build the sample index if there is none, serve it
#   make test   install everything, run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast install index bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU build: an unpinned torch pulls gigabytes of CUDA packages.
$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e '.[test,milvus]'  # milvus: its tests run on Milvus Lite
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/papersearch serve --source data/digests --host $(HOST) --port $(PORT)

index: install
	$(BIN)/papersearch index build --source data/digests

test: install
	$(PY) -m pytest tests

# The fast tier: unit tests over the shared sample indexes; no servers, browsers,
# subprocesses, real encoders or builds of their own (tests/conftest.py marks those).
test-fast: install
	$(PY) -m pytest tests -m "not slow and not build" -q

bench: install
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
