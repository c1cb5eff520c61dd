#!/usr/bin/env bash
# Every check the project has, as CI runs it: lint, types, then the test tiers, the
# end-to-end ones on LocalStack included. Sets up what it needs first (scripts/bootstrap.sh;
# Chromium from apt when /usr/bin/chromium is missing, for the HTML page test; LocalStack in
# its own environment under .stepstone/localstack, started here and stopped at the end
# unless it was already running). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy"
.venv/bin/mypy compiler lambdas stepstone examples cdk benchmarks
echo "==> docs (mkdocs build --strict; the runnable blocks run in tests/unit/test_docs.py)"
make --no-print-directory docs

if [ ! -x /usr/bin/chromium ]; then
  # tests/e2e/test_graph_page.py renders the `stepstone graph --html` page in it
  echo "==> Chromium: /usr/bin/chromium is missing, installing it (apt-get install chromium)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

echo "==> LocalStack"
if .venv/bin/stepstone localstack status >/dev/null 2>&1; then
  echo "already running: the end-to-end tests use it and leave it running"
else
  .venv/bin/stepstone localstack up
  trap '.venv/bin/stepstone localstack down' EXIT
fi
export STEPSTONE_REQUIRE_LOCALSTACK=1  # a LocalStack that cannot start (or no Chromium) fails the run, not skipped

echo "==> pytest"
.venv/bin/pytest "$@"
