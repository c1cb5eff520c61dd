# The two commands of the README. Both set up what they need (.venv, node_modules).
.PHONY: demo test bench

demo:  ## run the canonical ML pipeline in-process, compile it and draw it
	scripts/demo.sh

test:  ## ruff, mypy and every test tier (what CI runs)
	scripts/test.sh

bench:  ## the benchmark suite: figures against baselines measured in the same run (python -m benchmarks)
	scripts/bootstrap.sh
	.venv/bin/python -m benchmarks --json benchmarks/results.json
