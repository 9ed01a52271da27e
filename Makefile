# The two commands of the README: `make serve` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE ?= var/store
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test install build bench clean frontend screenshots

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

# Every kind of page, in en/de/zh, at desktop and phone width, into docs/screenshots/.
screenshots: build frontend
	bash scripts/browser.sh
	$(BIN)/python scripts/screenshots.py --store $(STORE)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache frontend/node_modules src/citygraph/web/static/vendor
