# Rose Ash: `make run` starts everything, `make test` runs the whole suite.
# PYTHON is the interpreter that creates $(VENV), as in `make run PYTHON=python3.11`; an existing $(VENV) is kept.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint schema-sql clean

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) (Python packages from PyPI)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/rose-ash run

test: install
	$(BIN)/pytest

lint: install
	.ci/lint

schema-sql: install
	$(BIN)/rose-ash db schema-sql

clean:
	rm -rf .run .pytest_cache .hypothesis
