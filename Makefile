# The two commands of the README: `make serve` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STORE ?= var/store
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test install build bench bench-memory clean frontend mutate coverage fuzz screenshots

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

# Mutation testing of the modules that carry the promises (outside `make test`; hours on two
# cores). Subprocesses the tests start (citygraph serve, build) import the mutated copy too;
# mutants/src exists before mutmut starts, else the installed src/ is imported instead.
# Then the mutants only a subprocess reaches, and the decorated functions mutmut skips.
mutate: install
	$(BIN)/python -m pip install --quiet -e ".[test,mutate]"
	rm -rf mutants && mkdir -p mutants/src
	PYTHONPATH=$(CURDIR)/mutants/src $(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python scripts/mutation_subprocess.py 'citygraph.cli_exits.x_fail__*' \
		'citygraph.cli_exits.x_exit_not_conforming__*' 'citygraph.cli.x_main__*' --tests tests/test_cli.py
	$(BIN)/python scripts/mutation_by_hand.py
	$(BIN)/python scripts/mutation_summary.py

# Line and branch coverage of src/ over the whole suite (outside `make test`), the processes the
# tests start and the query processes the zygote forks included (docs/testing.md). A selection:
# `make coverage COVERAGE_TESTS="tests/test_cli.py tests/web/test_limits.py"`.
COVERAGE_TESTS ?= tests
coverage: install
	$(BIN)/python -m pip install --quiet -e ".[test,mutate]"
	bash scripts/frontend.sh
	bash scripts/browser.sh
	rm -f .coverage .coverage.*
	$(BIN)/pytest --cov=citygraph --cov-branch \
		--cov-report=term-missing:skip-covered --cov-report=json:var/coverage.json $(COVERAGE_TESTS)
	$(BIN)/python scripts/coverage_summary.py var/coverage.json

# Every kind of page, in en/de/zh, at desktop and phone width, into docs/screenshots/.
screenshots: build frontend
	bash scripts/browser.sh
	$(BIN)/python scripts/screenshots.py --store $(STORE)

bench: install
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python -m bench

# Issue 10 §2 (docs/performance.md, "Memory"): serve's memory at 1, 2, 4 workers against one
# in-memory copy of the build, idle, after the query mix and during a switch.
bench-memory: install
	$(BIN)/python -m bench.memory

# Issue 9 §6 (docs/reliability.md): 10^5 fuzzed requests against a fresh `citygraph serve` on
# 127.0.0.1; exit 1 on any finding, the failing requests in var/fuzz/failures.jsonl.
FUZZ_ARGS ?= --requests 100000 --seconds 7200 --seed 1
fuzz: install
	$(BIN)/python -m bench.fuzz $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) var mutants .pytest_cache .mypy_cache .ruff_cache frontend/node_modules src/citygraph/web/static/vendor
