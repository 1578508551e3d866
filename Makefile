# agno-session: `make run` serves the API on :8080, `make test` runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PGDATA_DIR ?= .pgdata

.PHONY: install run check test lint lint-deploy unit contract-test smoke bench system-deps clean image-deps image-test \
	reliability-soak

$(STAMP): setup.py pyproject.toml dev-constraints.txt scripts/system-deps.sh
	bash scripts/system-deps.sh run
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c dev-constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh test

# Serve on :8080. Without AGNO_PG_DSN / DATABASE_URL / AGNO_SESSION_DSN_MAP, a local PostgreSQL
# cluster is started in $(PGDATA_DIR) from the system binaries.
run: install
	@if [ -z "$$AGNO_PG_DSN$$DATABASE_URL$$AGNO_SESSION_DSN_MAP" ]; then \
		dsn=$$($(PY) -m service.dev.pg start $(PGDATA_DIR) --database agno) || exit 1; \
		echo "local PostgreSQL: $$dsn (stop: $(PY) -m service.dev.pg stop $(PGDATA_DIR))"; \
		export AGNO_PG_DSN=$$dsn; exec $(PY) -m service; \
	else exec $(PY) -m service; fi

lint: install
	$(VENV)/bin/ruff check service tests bench k8s/tools
	$(VENV)/bin/ruff format --check service tests bench k8s/tools
	$(VENV)/bin/mypy

lint-deploy: install
	bash scripts/lint-deploy.sh

unit: install
	$(PY) -m pytest -q -m "not contract" -p no:cacheprovider

# The fast loop while editing: lint, unit and API tests (no reliability, contract or image suites).
check: lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not contract and not slow and not image" tests \
		--ignore=tests/reliability --ignore=tests/contract --ignore=tests/image

# The reliability suite 10 times in a row under `stress-ng --cpu 2` (docs/reliability.md, "Under load").
reliability-soak: install
	bash scripts/reliability-soak.sh 10

contract-test: install
	bash scripts/contract-test.sh

test: system-deps image-deps lint lint-deploy
	$(PY) -m pytest -q -p no:cacheprovider
	# the API tests once more, through PgBouncer in transaction pooling mode (tests/pgbouncer.py)
	TEST_VIA_PGBOUNCER=1 $(PY) -m pytest -q -p no:cacheprovider tests/api

# podman + runc + mmdebstrap, helm + kubectl (.tools/bin), the stand-in base image (docs/deploy.md).
image-deps:
	bash scripts/image-deps.sh base

# Build the image from a clean copy of the tree and run it as compose and the chart do (tests/image).
image-test: install image-deps
	$(PY) -m pytest -q -p no:cacheprovider tests/image

smoke: install
	bash scripts/smoke-local.sh

# The full benchmark (bench/README.md): both datasets, 1k and 100k sessions, the 5-minute memory run and
# py-spy flame graphs; writes bench/RESULTS.md. Installs the `bench` extra (py-spy, matplotlib) first.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q -c dev-constraints.txt -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bash bench/run.sh --long --profile

clean:
	-$(PY) -m service.dev.pg stop --purge $(PGDATA_DIR)
	rm -rf $(VENV) .venv-agentos .venv-deploy .tools $(PGDATA_DIR) *.egg-info
