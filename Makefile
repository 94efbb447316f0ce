# `make install` builds .venv (idempotent, and recoverable: a failed step leaves no stamp, so the next
# `make install` runs every step again); `make test` runs the whole suite from it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install test ingest serve bench clean

install: $(STAMP)

# The stamp is written last, only when every step succeeded. `python -m venv` keeps an existing venv.
# torch first: here 2.13.0 resolves to a local CPU build; left to the resolver it pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml Makefile
	@rm -f $(STAMP)
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/rag setup
	touch $(STAMP)

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
