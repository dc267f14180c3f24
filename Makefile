# Quick start: `make demo` (the main job on embedded AWS) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Static checks of infra/ run checkov from a venv of its own: its dependencies (boto3, pydantic, ...) are
# pinned differently from the project's. The stamp names the version, so changing it reinstalls.
CHECKOV_VERSION := 3.3.30
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.checkov-$(CHECKOV_VERSION)

.PHONY: install tools demo test bench lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(TOOLS_STAMP):
	rm -rf $(TOOLS_VENV)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

demo: $(STAMP)
	$(BIN)/costagent demo

test: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/ruff check functions tests bench examples
	$(BIN)/mypy
	COSTAGENT_CHECKOV=$(CURDIR)/$(TOOLS_VENV)/bin/checkov $(BIN)/pytest

# Benchmarks (method in bench/backtest.py, bench/cold_start.py, bench/cycle_latency.py): every backtest
# suite on the real traces, then handler cold start and per-cycle latency; writes docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/backtest.py

lint: $(STAMP)
	$(BIN)/ruff check functions tests bench examples
	$(BIN)/ruff format --check functions tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TOOLS_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
