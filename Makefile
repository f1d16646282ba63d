# Two commands matter: `make run` (everything locally) and `make test` (all checks).
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# The frontend contract's areas this backend serves in full; `make test` holds them.
CONTRACT_AREAS := foundation identity tenancy connections backups live
export UV_PYTHON_DOWNLOADS := never
# Some machines set PYTHONDONTWRITEBYTECODE: then every process (the local AWS, each CLI
# test, the dev stack) compiles every module it imports from source, seconds each time.
# Packages are installed compiled; our own modules may write their bytecode.
unexport PYTHONDONTWRITEBYTECODE
# jsii (under aws-cdk-lib) warns on every start that Node 20 is past its end of life.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20


.PHONY: run test install lock lint typecheck imports schema schema-check pytest coverage bench synth \
	graphiql-assets clean

run: install
	$(BIN)/listbackup dev

test: install lint typecheck imports schema-check pytest

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# requirements.lock pins every package exactly (with hashes): CI gets what we tested.
$(VENV)/.installed: $(UV) pyproject.toml requirements.lock
	test -x $(BIN)/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# Re-resolve the pins after changing dependencies in pyproject.toml. requirements.lock
# (what `make install` syncs) holds everything, the `local` extra (moto) included;
# requirements-runtime.lock holds only the runtime dependencies, at the same versions,
# for the container image.
lock: $(UV)
	$(UV) pip compile pyproject.toml --extra local --group dev --group deploy \
		--python-version 3.11 --generate-hashes --no-header --quiet -o requirements.lock
	$(UV) pip compile pyproject.toml --python-version 3.11 --generate-hashes \
		--no-header --quiet --constraint requirements.lock -o requirements-runtime.lock

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy listbackup deploy tests $(wildcard bench/*.py) $(wildcard scripts/*.py)

imports: install
	$(BIN)/lint-imports

schema: install
	$(BIN)/listbackup schema > schema.graphql

schema-check: install
	@$(BIN)/listbackup schema | diff -u schema.graphql - \
		|| (echo "schema.graphql is stale: run 'make schema'" && exit 1)
	@for area in $(CONTRACT_AREAS); do \
		$(BIN)/python ../shared/contract/check.py schema.graphql --area $$area --quiet || exit 1; \
	done

pytest: install
	$(BIN)/pytest -q

# The suite under coverage, held to 90% of lines. Not in `make test`: on Python 3.11 the
# tracer adds a fifth to the suite's time, and `make test` keeps to five minutes.
coverage: install
	$(BIN)/pytest --cov --cov-report=term -q

# GraphiQL's assets are committed (docs/adr/0007); this fetches them again from the npm
# registry, checked against the page's integrity attributes, after a version change.
graphiql-assets: install
	$(BIN)/python scripts/vendor_graphiql.py

# Benchmarks print their figures; docs/performance.md records them.
bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# The CDK cloud assembly (CloudFormation templates) in cdk.out/: no network, Docker or
# cdk CLI needed. Context comes from the environment (see docs/deploy.md), e.g.
# `make synth LISTBACKUP_DEPLOY_STAGE=production`.
synth: install
	$(BIN)/python -m deploy.app

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache .coverage cdk.out
