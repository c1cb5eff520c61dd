# The two commands of the README. Both set up what they need (.venv, node_modules).
.PHONY: demo test bench docs docs-serve

demo:  ## run the canonical ML pipeline in-process, compile it and draw it
	scripts/demo.sh

test:  ## ruff, mypy and every test tier (what CI runs)
	scripts/test.sh

bench:  ## the benchmark suite: figures against baselines measured in the same run (python -m benchmarks)
	scripts/bootstrap.sh
	.venv/bin/python -m benchmarks --json benchmarks/results.json

# MkDocs is pinned (pyproject.toml, extra docs); its plugins' notices about MkDocs 2 and
# Material's successor are silenced here, the pinned versions build the same site offline
DOCS_ENV = NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true

docs:  ## the documentation site, offline, into site/ (strict: a broken link fails it)
	scripts/bootstrap.sh --python-only
	$(DOCS_ENV) .venv/bin/mkdocs build --strict

docs-serve:  ## the documentation site on http://127.0.0.1:8000, rebuilt as pages change
	scripts/bootstrap.sh --python-only
	$(DOCS_ENV) .venv/bin/mkdocs serve
