# Quick start: `make demo` (the main job on embedded AWS) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench lint typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/costagent demo

test: $(STAMP)
	$(BIN)/ruff check functions tests bench examples
	$(BIN)/mypy
	$(BIN)/pytest

# Benchmarks (method in each script's docstring and docs/benchmarks.md): cold-start import time of every
# handler, and per-cycle wall time on embedded AWS.
bench: $(STAMP)
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/cycle_latency.py

lint: $(STAMP)
	$(BIN)/ruff check functions tests bench examples
	$(BIN)/ruff format --check functions tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
