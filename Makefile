# Every target builds on the project's own virtualenv, created from pyproject.toml on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck policies unit demo clean

$(STAMP): pyproject.toml authorizer/__init__.py  # the version is read from __init__.py
	@echo "Setting up $(VENV): the package and its development tools from PyPI (once; about a minute)"
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check authorizer tests deploy benchmarks
	$(BIN)/ruff format --check authorizer tests deploy benchmarks
	$(BIN)/cfn-lint deploy/template.yaml

typecheck: $(STAMP)
	$(BIN)/mypy

# the shipped policies: no error, no warning, every suite case passing, every rule and condition covered,
# every token attack refused
policies: $(STAMP)
	$(BIN)/authorizer validate --strict policies
	$(BIN)/authorizer test policies --coverage --min-coverage 100 --token-attacks

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck policies unit

# the long fuzz and soak runs (@pytest.mark.slow): 1,000,000 decisions, tens of thousands of fuzzed inputs
.PHONY: soak
soak: $(STAMP)
	$(BIN)/pytest -m slow --hypothesis-show-statistics

# make bench [BENCH="--json build/bench.json --long"]: the benchmark suite (BENCHMARKS.md); --long adds 1,000,000 decisions
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH)

# make package STAGE=prod [PYTHON_VERSION=3.12] [ARCH=x86_64|arm64] [POLICY=path]: build/authorizer-<stage>.zip
STAGE ?= dev
PYTHON_VERSION ?= 3.12
ARCH ?= x86_64
PACKAGE = $(BIN)/python deploy/package.py --stage $(STAGE) --python-version $(PYTHON_VERSION) --arch $(ARCH) $(if $(POLICY),--policy $(POLICY))
.PHONY: package
package: $(STAMP)
	$(PACKAGE)

# STAGE=prod sam build -t deploy/template.yaml: SAM runs this target (the function's BuildMethod: makefile)
# with ARTIFACTS_DIR set; the same build as make package, as files. STAGE, PYTHON_VERSION, ARCH and
# POLICY come from the environment, as SAM passes none of the template's parameters to make.
.PHONY: build-AuthorizerFunction
build-AuthorizerFunction: $(STAMP)
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: sam build sets it; make package builds a zip))
	$(PACKAGE) --output-dir "$(ARTIFACTS_DIR)"

FIXTURES := tests/fixtures/aws-events

# make serve [PORT=3000]: the local gateway (authorizer serve) on the example policy; Ctrl-C stops it
PORT ?= 3000
.PHONY: serve
serve: $(STAMP)
	@echo "Try, from another terminal:"
	@echo "  curl -i 'http://127.0.0.1:$(PORT)/dev/pets?QueryString1=queryValue1' -H 'HeaderAuth1: headerValue1'    # 200"
	@echo "  curl -i 'http://127.0.0.1:$(PORT)/dev/pets'                                                             # 401"
	@echo "  curl -i 'http://127.0.0.1:$(PORT)/dev/orders?QueryString1=queryValue1' -H 'HeaderAuth1: headerValue1'  # 403: cached"
	@echo "  wscat -c 'ws://127.0.0.1:$(PORT)/dev?QueryString1=queryValue1' -H HeaderAuth1:headerValue1            # connects"
	@echo "  wscat -c 'ws://127.0.0.1:$(PORT)/dev'                  # error: Unexpected server response: 401"
	@echo "  a browser: http://127.0.0.1:$(PORT)/dev/pets (the page says why; add -H 'Accept: text/html' to curl)"
	@echo
	$(BIN)/authorizer serve policies/example.yaml --port $(PORT) --stage-var StageVar1=stageValue1

demo: $(STAMP)
	$(BIN)/authorizer demo --fixtures $(FIXTURES)

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
