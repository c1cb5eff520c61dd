"""Golden files: the ASL (and the Mermaid graph) of every example, byte for byte.

Every workflow in ``examples/*.py`` is compiled and compared with
``tests/golden/<file>.<workflow>.asl.json``. The compiler's output must not change unless
someone means it to; when it should, regenerate the files and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler import compile_workflow
from compiler.graph import build_graph, render
from compiler.loader import load_module, load_workflows, workflows_in

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
REGENERATE = "UPDATE_GOLDEN=1 .venv/bin/pytest tests/golden"


def example_workflows() -> list[tuple[str, str]]:
    cases = []
    for path in EXAMPLES:  # files of shared steps hold no workflow
        for workflow in workflows_in(load_module(path)):
            cases.append((path.stem, workflow.name))
    return cases


CASES = example_workflows()


def _check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path.relative_to(ROOT)}; create it with: {REGENERATE}")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        import difflib

        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "golden", "compiled",
                                            n=2))
        pytest.fail(f"{path.relative_to(ROOT)} differs from what the compiler makes now:\n{diff[:4000]}\n"
                    f"If the change is intended, regenerate and review: {REGENERATE}")


def _workflow(stem: str, name: str):  # type: ignore[no-untyped-def]
    return next(w for w in load_workflows(str(ROOT / "examples" / f"{stem}.py")) if w.name == name)


def test_every_example_is_covered() -> None:
    assert len({stem for stem, _ in CASES}) >= 5, "examples/ should hold the examples DESIGN.md lists"
    stale = {p.name for p in GOLDEN.glob("*.asl.json")} - {f"{s}.{n}.asl.json" for s, n in CASES}
    assert not stale, f"golden files without a workflow: {sorted(stale)} (delete them, or run {REGENERATE})"


@pytest.mark.parametrize(("stem", "name"), CASES, ids=[f"{s}.{n}" for s, n in CASES])
def test_asl_matches_golden(stem: str, name: str) -> None:
    compiled = compile_workflow(_workflow(stem, name))
    _check(GOLDEN / f"{stem}.{name}.asl.json", compiled.asl_json)


def test_ml_training_graph_matches_golden() -> None:
    from compiler.parse import parse_workflow

    graph = render(build_graph(parse_workflow(_workflow("ml_training", "ml_training"))), "mermaid")
    _check(GOLDEN / "ml_training.mmd", graph)


SNAPSHOT = """
import json, sys
from pathlib import Path
from compiler import compile_workflow
from compiler.loader import load_module, workflows_in
out = {}
for path in sorted(Path("examples").glob("*.py")):
    if not path.name.startswith("_"):
        for wf in workflows_in(load_module(path)):
            out[f"{path.stem}.{wf.name}"] = compile_workflow(wf).asl_json
json.dump(out, sys.stdout)
"""


@pytest.mark.parametrize("seed", ["0", "4242"])
def test_output_does_not_depend_on_hash_seeds_or_import_order(seed: str) -> None:
    """Sets and dicts iterate differently under another PYTHONHASHSEED; the ASL must not change."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run([sys.executable, "-c", SNAPSHOT], capture_output=True, text=True, cwd=ROOT, env=env,
                            check=True)
    for key, asl in json.loads(result.stdout).items():
        assert asl == (GOLDEN / f"{key}.asl.json").read_text(encoding="utf-8"), key


def test_readme_shows_the_current_graph() -> None:
    """The picture in the README is the one `stepstone graph examples/ml_training.py` draws."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == (GOLDEN / "ml_training.mmd").read_text(encoding="utf-8"), (
        "update the README's mermaid block from tests/golden/ml_training.mmd")
