#!/usr/bin/env bash
# Create (or refresh) what the project runs on: .venv with stepstone and its pinned
# development tools, and node_modules with the pinned Node tools (package-lock.json).
# Re-runs are cheap: each part is redone only when the files that pin it change.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${STEPSTONE_PYTHON:-python3}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "stepstone needs Python >= 3.11 (set STEPSTONE_PYTHON to one)" >&2
  exit 2
fi

stamp=".venv/.stepstone-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> setting up .venv (Python: $("$python_bin" --version))"
  "$python_bin" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==25.3"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
  echo "$want" > "$stamp"
fi

if [ "${1:-}" != "--python-only" ]; then
  node_stamp="node_modules/.stepstone-installed"
  node_want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -d node_modules ] || [ "$(cat "$node_stamp" 2>/dev/null)" != "$node_want" ]; then
    echo "==> installing Node tools (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$node_want" > "$node_stamp"
  fi
fi
