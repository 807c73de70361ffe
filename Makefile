# Two commands, each complete from a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
RUN_TIME ?= 30s

.PHONY: run test test-fast notebook setup lint clean

setup:
	@scripts/ensure-redis.sh
	@scripts/ensure-venv.sh

run: setup
	$(BIN)/locust -f scenarios/ha9.py --headless --only-summary -t $(RUN_TIME)

lint: setup
	$(BIN)/ruff check .

test: setup
	@scripts/ensure-browser.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --durations=15 tests/unit tests/integration

test-fast: setup  # the unit tests alone: no Redis, no subprocess, seconds
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests/unit

notebook: setup  # JupyterLab on the notebooks; set results_dir in each notebook's first cell
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
