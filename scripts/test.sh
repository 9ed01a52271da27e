#!/usr/bin/env bash
# The whole test suite: lint, types, tests. Called by `make test` (and so by .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "== ruff"
"$BIN/ruff" check src tests bench
"$BIN/ruff" format --check src tests bench
echo "== mypy"
"$BIN/mypy"
echo "== frontend assets and browser"
bash scripts/frontend.sh
bash scripts/browser.sh
echo "== backends: Virtuoso and nginx"
bash scripts/virtuoso.sh
echo "== pytest"
"$BIN/pytest" "$@"
