#!/usr/bin/env bash
# Every check the project has, as CI runs it: lint, types, then the test tiers, the
# end-to-end ones on LocalStack included. Sets up what it needs first (scripts/bootstrap.sh;
# LocalStack in its own environment under .stepstone/localstack, started here and stopped
# at the end unless it was already running). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy"
.venv/bin/mypy compiler lambdas stepstone examples cdk

echo "==> LocalStack"
if .venv/bin/stepstone localstack status >/dev/null 2>&1; then
  echo "already running: the end-to-end tests use it and leave it running"
else
  .venv/bin/stepstone localstack up
  trap '.venv/bin/stepstone localstack down' EXIT
fi
export STEPSTONE_REQUIRE_LOCALSTACK=1  # a LocalStack that cannot start fails the run, it is not skipped

echo "==> pytest"
.venv/bin/pytest "$@"
