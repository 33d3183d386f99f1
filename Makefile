# pixtag: `make run` serves the API, `make test` runs the whole suite.
# Both work on a fresh machine that has Python >= 3.12 and make.

VENV    := .venv
VPY     := $(VENV)/bin/python
# What is installed: the package and what serving needs (run), or that and
# the test tools (test: pytest, mypy, ruff, schemathesis...). `make run` stays
# small; `make test` after it still installs the test extra.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
ARGS    ?=

# A Python >= 3.12: $(PYTHON) if given, else the first candidate that really
# runs (pyenv shims for versions that are not selected exist but refuse to run).
PYTHON ?= $(shell for c in python3.13 python3.12 python3 \
            $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 \
            /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
            "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
            && { echo "$$c"; break; }; done)

.PHONY: run test lint openapi bench-listing bench-upload bench-requests bench-workers clean help

help:
	@echo "make run      serve the API on :8080 with an embedded PostgreSQL under data/"
	@echo "make test     install test dependencies and run the whole suite"
	@echo "make lint     ruff and mypy"
	@echo "make openapi  regenerate openapi.json from the code"
	@echo "make bench-upload  upload throughput and server memory (bench/RESULTS.md)"
	@echo "make bench-listing  listing throughput, memory and first-chunk latency on 1M images (bench/RESULTS.md)"
	@echo "make bench-requests [BASE=rev]  per-request req/s and p99, this tree against BASE (default: where it left main)"
	@echo "make bench-workers  CPU per request, server and PostgreSQL, of 1 and 2 workers (bench/RESULTS.md)"

$(VPY):
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found; set PYTHON=/path/to/python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install --quiet -e .
	@touch $(RUN_STAMP)

# The test extra includes everything serving needs: it counts as installed for run too.
$(TEST_STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install --quiet -e '.[test]'
	@touch $(RUN_STAMP) $(TEST_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/pixtag serve $(ARGS)

# Each checkout keeps its own pytest temp root, so concurrent runs from
# different checkouts never rotate away each other's directories. The suite
# runs in WORKERS processes (pytest-xdist), each with its
# own PostgreSQL and S3 server, the browser tests together on one of them:
# WORKERS=0 runs it in this process. One worker more than the cores: while a
# test waits (a grace period, a process starting), another one has the core.
WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')

# Bytecode is cached whatever the environment says (PYTHONDONTWRITEBYTECODE): the suite
# starts hundreds of processes (servers, the CLI), each would compile the package again.
test: $(TEST_STAMP)
	@mkdir -p .tmp
	PYTHONDONTWRITEBYTECODE= PYTEST_DEBUG_TEMPROOT=$(CURDIR)/.tmp $(VPY) -m pytest -n $(WORKERS) --dist loadgroup $(ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check api bench
	$(VENV)/bin/ruff format --check api bench
	$(VENV)/bin/mypy

openapi: $(RUN_STAMP)
	$(VPY) -m aiohttp_pydantic.oas "pixtag.app:create_app()" -o openapi.json

bench-upload: $(TEST_STAMP)
	$(VPY) bench/upload.py $(ARGS)

bench-listing: $(TEST_STAMP)
	$(VPY) bench/listing.py $(ARGS)

# The baseline of bench-requests: by default the commit where this branch left
# main (on main itself that is HEAD, and every ratio should come out near 1).
# It is checked out into a temporary worktree, removed again after the run.
BASE ?= $(shell git merge-base HEAD main 2>/dev/null || echo HEAD~1)

bench-requests: $(TEST_STAMP)
	@base=$$(mktemp -d)/base && \
	trap 'git worktree remove --force "$$base"; rm -rf "$$(dirname "$$base")"' EXIT && \
	trap 'exit 130' INT TERM && \
	git worktree add --quiet --detach "$$base" $(BASE) && \
	$(VPY) bench/requests.py --against "$$base" $(ARGS)

bench-workers: $(TEST_STAMP)
	$(VPY) bench/workers.py $(ARGS)

clean:
	rm -rf $(VENV) build dist
