# Two commands on a fresh machine:
#   make run    set up .venv and start the bot (reads .env)
#   make test   set up .venv with the test tools and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test setup setup-test lint bench-ingest bench-query bench-load eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[llm]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[llm,test]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

run: setup
	$(BIN)/newsdesk run

test: setup-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: setup-test
	$(BIN)/ruff check .

bench-ingest: setup-test
	$(BIN)/python bench/ingest.py

bench-query: setup-test
	$(BIN)/python bench/query.py

bench-load: setup-test
	$(BIN)/python bench/load.py

eval: setup
	$(BIN)/newsdesk eval --corpus ../shared/eval/multihop/corpus.json --queries ../shared/eval/multihop/queries-dev.json

clean:
	rm -rf $(VENV) .pytest_cache
