#!/usr/bin/env bash
# Every check the project has, as CI runs it: lint, types, then the test tiers.
# Sets up what it needs first (scripts/bootstrap.sh); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy"
.venv/bin/mypy compiler lambdas stepstone examples
echo "==> pytest"
.venv/bin/pytest "$@"
