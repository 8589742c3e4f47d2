# Pnyx — two commands: `make run` and `make test`. Everything else is set up by these.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi
# The app and the tests solve small matrices only: BLAS threads cost hand-offs, not speed (see
# sortition/_env.py). Benchmarks keep the machine's default, so they measure what a user gets.
run test: export OPENBLAS_NUM_THREADS ?= 1
run test: export OMP_NUM_THREADS ?= 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install install-dev run test bench lint db demo links clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps make repeated installs instant when the requirement files did not change.
$(VENV)/.stamp-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.stamp-runtime $@

install: $(VENV)/.stamp-runtime
install-dev: $(VENV)/.stamp-dev

db: install
	@mkdir -p instance
	$(BIN)/flask db upgrade

demo: db
	$(BIN)/flask seed-demo --no-print-links

links: install
	@PORT=$(PORT) $(BIN)/flask seed-demo

run: db
	@PORT=$(PORT) $(BIN)/flask seed-demo
	PORT=$(PORT) $(BIN)/python wsgi.py

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	@for b in benchmarks/*_bench.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

lint: install-dev
	$(BIN)/ruff check panel deliberation sortition voting tests benchmarks wsgi.py
	$(BIN)/mypy sortition voting

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache test-output
