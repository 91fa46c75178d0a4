# `make run` serves the bundled catalog; `make test` runs the whole suite. Both bootstrap .venv:
# `run` installs only what serving needs (and the speed extra), `test` adds the test and framework extras.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SERVE_STAMP := $(VENV)/.serve-stamp

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SERVE_STAMP): pyproject.toml setup.py Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[speed]'
	touch $(SERVE_STAMP)

$(STAMP): pyproject.toml setup.py Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,adk,langchain,speed,postgres,duckdb,nats]'
	touch $(STAMP) $(SERVE_STAMP)

run: $(SERVE_STAMP)
	$(BIN)/agenthub serve

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .venv-clients .agenthub .pytest_cache
