# The two commands of the README: `make serve` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE ?= var/store
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test install build bench clean frontend fuzz

$(BIN)/citygraph: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/citygraph

build: install
	$(BIN)/citygraph build --store $(STORE)

frontend:
	bash scripts/frontend.sh

# `make serve WORLDWIDE=1` also imports the worldwide twin-town lists (../shared/datasets).
TWINS ?= ../shared/datasets/wikipedia-twin-cities/twin_cities_geocoded.csv

serve: build frontend
	$(if $(WORLDWIDE),$(BIN)/citygraph import twins $(TWINS) --store $(STORE))
	$(BIN)/citygraph serve --store $(STORE) --host $(HOST) --port $(PORT)

test: install
	bash scripts/test.sh

bench: install
	$(BIN)/python -m bench

# Issue 9 §6 (docs/reliability.md): 10^5 fuzzed requests against a fresh `citygraph serve` on
# 127.0.0.1; exit 1 on any finding, the failing requests in var/fuzz/failures.jsonl.
FUZZ_ARGS ?= --requests 100000 --seconds 7200 --seed 1
fuzz: install
	$(BIN)/python -m bench.fuzz $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache frontend/node_modules src/citygraph/web/static/vendor
