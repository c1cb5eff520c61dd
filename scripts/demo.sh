#!/usr/bin/env bash
# The five-second tour on the embedded default (no AWS, no Docker): run the canonical ML
# pipeline here (the local target), compile it to a Step Functions state machine, draw it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh  # .venv, and node_modules: Mermaid for `stepstone graph --html`, the CDK CLI
mkdir -p build

echo "==> 1. run examples/ml_training.py on the local target (artifacts and lineage in .stepstone/)"
.venv/bin/stepstone run examples/ml_training.py
echo
echo "==> and once more with a stricter bar: the model-quality gate stops the release"
.venv/bin/stepstone run examples/ml_training.py --param min_auc=0.95
echo
.venv/bin/stepstone runs --limit 5
echo
echo "==> 2. compile it to Amazon States Language: build/ml_training.asl.json"
.venv/bin/stepstone compile examples/ml_training.py -o build/ml_training.asl.json --explain
echo
echo "==> 3. draw it: build/ml_training.mmd (paste into https://mermaid.live or view on GitHub)"
.venv/bin/stepstone graph examples/ml_training.py -o build/ml_training.mmd
echo
echo "==> 4. check every example"
.venv/bin/stepstone validate examples/*.py
