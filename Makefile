# `make install` builds .venv from scratch (idempotent); `make test` runs the whole suite from it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install test ingest serve bench clean

install: $(BIN)/rag

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first: here 2.13.0 resolves to a local CPU build; left to the resolver it pulls a multi-GB CUDA build.
$(BIN)/rag: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/rag setup
	touch $(BIN)/rag

test: install
	$(BIN)/python -m pytest -q

ingest: install
	$(BIN)/rag ingest

serve: install
	$(BIN)/rag serve

bench: install
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/ann.py

clean:
	rm -rf $(VENV) index/ tests/artifacts/
