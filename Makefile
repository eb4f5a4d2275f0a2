# Every target builds on the project's own virtualenv, created from pyproject.toml on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit demo clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check authorizer tests
	$(BIN)/ruff format --check authorizer tests

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

FIXTURES := ../shared/fixtures/aws-events

demo: $(STAMP)
	$(BIN)/authorizer demo $(if $(wildcard $(FIXTURES)),--fixtures $(FIXTURES))

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
