# The two commands: `make run` (the studio on embedded defaults) and `make test`.
PYTHON ?= python3
# Two test processes (pytest-xdist): this is a 2-core machine's worth.
PYTEST_ARGS ?= -n 2
# The many-machine pass: PostgreSQL 15, Redis 7 and an S3-compatible server, started on
# loopback by `tests/backends.py` and stopped after, under the tests that cross processes.
BACKEND_TESTS ?= tests/test_api_*.py tests/test_webhooks_*.py tests/test_sdk_*.py tests/test_e2e_worker.py \
	tests/test_recovery_e2e.py tests/test_many_machines.py tests/test_health.py tests/test_ledger.py \
	tests/test_services.py tests/test_search.py tests/test_s3_storage.py tests/test_cache_unavailable.py
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt requirements-diffusers.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py contentcredentials
	$(BIN)/python -m studio.run

# Debian packages the tests drive: Chromium for the browser tests, Node.js for the JavaScript SDK,
# PostgreSQL and Redis servers for the many-machine pass. Only what is missing is installed.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian's$$missing for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: $(VENV)/.dev system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m tests.backends $(PYTEST_ARGS) -m "not browser" $(BACKEND_TESTS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every figure of the speed and reliability issues, each measured side by side in one run:
# the API against a bare view (both stacks), the pipeline against a bare encode, the queue's
# estimates against the real wait, Studio against Replicate's cog, the diffusers engine through
# the worker against a bare pipeline call (CPU here, CUDA where there is one).
bench: $(VENV)/.dev system-deps
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/gallery.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/estimates.py
	$(BIN)/python bench/peer.py
	$(BIN)/python bench/gpu.py
	$(BIN)/python bench/chaos.py
	$(BIN)/python bench/steady.py

clean:
	rm -rf $(VENV) var staticfiles test-output
