# Two commands, each complete from a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
RUN_TIME ?= 30s
NOTEBOOK_DIR ?= my-notebooks

.PHONY: run test test-fast notebook notebook-copies setup lint clean

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
	$(BIN)/python scripts/run-tests.py  # the whole suite in 3 parallel shards, in a random order (seed printed)

test-fast: setup  # the unit tests alone: no Redis, no subprocess, seconds
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests/unit

# JupyterLab on your own copies of the notebooks, in $(NOTEBOOK_DIR) (default my-notebooks/, not tracked by git):
# `loadsim report` executes the packaged templates, so an edit saved there would change every later report.
notebook: setup notebook-copies
	$(BIN)/jupyter lab --notebook-dir=$(NOTEBOOK_DIR) $(if $(filter 0,$(shell id -u)),--allow-root)

# Copy the packaged notebooks into $(NOTEBOOK_DIR); a copy already there (edited or not) is kept as it is.
notebook-copies:
	@mkdir -p "$(NOTEBOOK_DIR)"
	@for nb in loadsim/notebooks/*.ipynb; do \
	  if [ -e "$(NOTEBOOK_DIR)/$$(basename "$$nb")" ]; then echo "kept your $(NOTEBOOK_DIR)/$$(basename "$$nb")"; \
	  else cp "$$nb" "$(NOTEBOOK_DIR)/" && echo "copied $$(basename "$$nb") to $(NOTEBOOK_DIR)/"; fi; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
