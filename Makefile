# Two entry points (see README): `make run` runs the whole DVC pipeline, `make test` runs every test.
# Both create or refresh the virtual environment from the lock file first, and are idempotent.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export MLFLOW_ENABLE_TELEMETRY := false
export PYTHONUNBUFFERED := 1

.PHONY: install lock run test test-fast bench

install: $(STAMP)

# natten ships only as an sdist that needs torch at build time: install it after the rest, without isolation.
# --compile-bytecode: every stage, CLI call and served model is a new process, and without .pyc files each one
# compiled torch's, torchvision's and mlflow's sources again (16 s per process on 2 cores where
# PYTHONDONTWRITEBYTECODE is set, as on our CI machines).
$(STAMP): requirements.lock pyproject.toml Makefile
	@command -v uv >/dev/null || python3 -m pip install --quiet uv
	@[ -x $(PY) ] || uv venv --quiet -p 3.11 $(VENV)
	grep -v '^natten==' requirements.lock > $(VENV)/requirements-no-natten.txt
	uv pip install --quiet -p $(PY) --compile-bytecode -r $(VENV)/requirements-no-natten.txt
	uv pip install --quiet -p $(PY) --no-deps --no-build-isolation $$(grep '^natten==' requirements.lock)
	uv pip install --quiet -p $(PY) --no-deps -e .
	touch $(STAMP)

# Regenerate the lock after changing dependencies in pyproject.toml (never done implicitly).
lock:
	uv pip compile pyproject.toml --extra test -p 3.11 --no-build-isolation-package natten -o requirements.lock

run: $(STAMP)
	source $(VENV)/bin/activate && tsjnet repro

test: $(STAMP)
	source $(VENV)/bin/activate && python -m pytest

test-fast: $(STAMP)
	source $(VENV)/bin/activate && python -m pytest -m "not slow and not realdata"

bench: $(STAMP)
	source $(VENV)/bin/activate && tsjnet bench
