"""The code hash of a ``cache=True`` step covers the project code it reaches and the packages it uses.

Each test writes a small project of its own (modules with names no other test uses, in a
folder put on ``sys.path``), hashes a function of it, edits a file and reloads the modules,
as a new process would see the edit, and hashes again.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from compiler.protocol import StepPayload
from lambdas import codehash
from lambdas.codehash import code_hash, explain_code_hash
from lambdas.runner import run_step
from lambdas.store import LocalStore

ROOT = Path(__file__).resolve().parents[2]


class Project:
    """A folder of modules on ``sys.path``; ``{p}`` in a module's text is this project's name prefix."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.prefix = f"chash_{uuid.uuid4().hex[:8]}"
        self.edits = 0

    def name(self, module: str) -> str:
        return f"{self.prefix}_{module}"

    def write(self, module: str, source: str) -> None:
        path = self.folder / f"{self.name(module)}.py"
        path.write_text(textwrap.dedent(source).replace("{p}", self.prefix))
        self.edits += 1  # a later mtime for each edit, as a real edit has (linecache compares it)
        os.utime(path, (1_700_000_000 + self.edits, 1_700_000_000 + self.edits))

    def load(self, *modules: str) -> list[ModuleType]:
        """Import the modules, or reload them (in this order) when they are loaded already."""
        importlib.invalidate_caches()
        loaded = []
        for module in modules:
            name = self.name(module)
            loaded.append(importlib.reload(sys.modules[name]) if name in sys.modules else importlib.import_module(name))
        return loaded


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # a stale .pyc would hide an edit made within a second
    monkeypatch.syspath_prepend(str(tmp_path))
    made = Project(tmp_path)
    yield made
    for name in [n for n in sys.modules if n.startswith(made.prefix)]:
        del sys.modules[name]


HELPERS = """
    def factor():
        return {factor} * deeper()

    def deeper():
        return {deeper}

    def unrelated():
        return {unrelated}
"""

STEPS = """
    import {p}_helpers
    from {p}_helpers import factor

    def scale(x):
        return x * factor()

    def scale_through_module(x):
        return x * {p}_helpers.factor()
"""


def write_helpers(project: Project, *, factor: int = 2, deeper: int = 1, unrelated: int = 0) -> None:
    project.write("helpers", HELPERS.format(factor=factor, deeper=deeper, unrelated=unrelated))


def step_hash(project: Project, step: str) -> str:
    _, steps = project.load("helpers", "steps")
    fn: Callable[..., Any] = getattr(steps, step)
    return code_hash(fn)


@pytest.mark.parametrize("step", ["scale", "scale_through_module"])  # `from m import f`; `import m; m.f()`
@pytest.mark.parametrize("edit", [{"factor": 3}, {"deeper": 7}])  # the helper; the helper's helper
def test_an_edited_helper_changes_the_hash(project: Project, step: str, edit: dict[str, Any]) -> None:
    write_helpers(project)
    project.write("steps", STEPS)
    before = step_hash(project, step)
    assert len(before) == 16 and set(before) <= set("0123456789abcdef")
    assert ("function", f"{project.name('helpers')}:deeper") in explain_code_hash(
        getattr(sys.modules[project.name("steps")], step)), "two levels down is covered"
    write_helpers(project, **edit)
    assert step_hash(project, step) != before, "a cached result from before the edit would be stale"


@pytest.mark.parametrize("step", ["scale", "scale_through_module"])
def test_an_edit_the_step_never_reaches_keeps_the_hash(project: Project, step: str) -> None:
    write_helpers(project)
    project.write("steps", STEPS)
    before = step_hash(project, step)
    write_helpers(project, unrelated=99)
    assert step_hash(project, step) == before
    steps = sys.modules[project.name("steps")]
    assert ("function", f"{project.name('helpers')}:unrelated") not in explain_code_hash(getattr(steps, step))


def test_a_changed_constant_of_the_project_changes_the_hash(project: Project) -> None:
    project.write("rates", "RATE = 3\n\ndef scaled(x):\n    return x * RATE\n")
    (rates,) = project.load("rates")
    before = code_hash(rates.scaled)
    project.write("rates", "RATE = 4\n\ndef scaled(x):\n    return x * RATE\n")
    (rates,) = project.load("rates")
    assert code_hash(rates.scaled) != before
    assert ("constant", f"{project.name('rates')}:RATE") in explain_code_hash(rates.scaled)


NUMPY_STEP = """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    def fit(x):
        return LogisticRegression().fit(np.asarray(x), [0, 1])
"""


def test_a_package_upgrade_changes_the_hash(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("fit", NUMPY_STEP)
    (module,) = project.load("fit")
    before = code_hash(module.fit)
    entries = explain_code_hash(module.fit)
    numpy = codehash.distribution_version("numpy")
    assert ("distribution", f"numpy=={numpy}") in entries
    assert any(kind == "distribution" and label.startswith("scikit-learn==") for kind, label in entries)
    real = codehash.distribution_version
    # stands in for a real upgrade (pip install numpy==<next>): the version the lookup reads changes
    monkeypatch.setattr(codehash, "distribution_version", lambda name: "99.0.0" if name == "numpy" else real(name))
    (module,) = project.load("fit")  # a new process: a new function object, walked afresh
    assert code_hash(module.fit) != before
    assert ("distribution", "numpy==99.0.0") in explain_code_hash(module.fit)


def test_the_standard_library_and_site_packages_are_not_read(project: Project,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("dump", """
        import json
        import os.path
        import numpy as np

        def dump(x):
            return json.dumps(x) + os.path.join("a", "b") + str(np.linalg.norm(x))
    """)
    (module,) = project.load("dump")
    read: list[str] = []
    getsource = inspect.getsource

    def spy(obj: Any) -> str:
        read.append(obj.__module__)
        return getsource(obj)

    monkeypatch.setattr(inspect, "getsource", spy)
    entries = explain_code_hash(module.dump)
    assert read == [project.name("dump")], "only the project's own source was read"
    assert [e for e in entries if e[0] in ("function", "class")] == [("function", f"{project.name('dump')}:dump")]
    assert not any("json" in label or label.startswith("os") for _, label in entries)
    assert any(label.startswith("numpy==") for _, label in entries), "numpy stands as its version"
    assert any(kind == "python" for kind, _ in entries), "the standard library stands as Python's version"


def test_recursion_and_cycles_end(project: Project) -> None:
    project.write("ping", """
        import {p}_pong

        def ping(n):
            return 0 if n == 0 else {p}_pong.pong(n - 1) + ping(0)

        class Node:
            def walk(self, n):
                return Node().walk(n - 1) if n else ping(n)
    """)
    project.write("pong", """
        import {p}_ping

        def pong(n):
            return {p}_ping.ping(n) if n else {p}_ping.Node().walk(n)
    """)
    ping, _ = project.load("ping", "pong")
    labels = {label for _, label in explain_code_hash(ping.ping)}
    assert {f"{project.name('ping')}:ping", f"{project.name('pong')}:pong", f"{project.name('ping')}:Node"} <= labels
    assert code_hash(ping.ping) == code_hash(ping.ping)


def test_the_hash_is_the_same_in_another_process(project: Project) -> None:
    """No addresses or set orders in it: a fresh Python with another hash seed gets the same value,
    for a function with source and for one without (its bytes and constants stand in)."""
    project.write("steady", """
        def kind(x):
            return x in {"a", "b", "c", "d"}

        exec(compile("def made(x):\\n    return x in {'a', 'b', 'c'} and (lambda: kind(x))()", "<made>", "exec"))
    """)
    (module,) = project.load("steady")
    assert ("function", f"{project.name('steady')}:kind") in explain_code_hash(module.made)
    script = (f"import sys; sys.path.insert(0, {str(project.folder)!r}); import {project.name('steady')} as m; "
              "from lambdas.codehash import code_hash; print(code_hash(m.kind), code_hash(m.made))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [code_hash(module.kind), code_hash(module.made)]


FLOW = """
    from stepstone import step

    def factor():
        return {factor}

    @step(cache=True)
    def scale(x: int) -> int:
        return x * factor()
"""


def test_the_runner_runs_a_cached_step_again_after_its_helper_changes(project: Project, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    flow = project.name("flow")

    def run(run_id: str) -> tuple[str, int]:
        payload = StepPayload.decode({"step": f"{flow}:scale", "workflow": "wf", "state": "scale", "run": run_id,
                                      "args": {"x": {"value": 3}}})
        envelope = run_step(payload, store)
        lineage = json.loads(store.read(f"runs/wf/{run_id}/scale/attempt-0/lineage.json"))
        return lineage["status"], envelope["value"]

    project.write("flow", FLOW.format(factor=2))
    project.load("flow")
    assert run("run-1") == ("succeeded", 6)
    assert run("run-2") == ("cached", 6), "the same code on the same inputs is reused"
    project.write("flow", FLOW.format(factor=2) + "\n    # an edit elsewhere in the file\n")
    project.load("flow")
    assert run("run-3") == ("cached", 6), "reloaded, unchanged where it matters: still cached"
    project.write("flow", FLOW.format(factor=5))
    project.load("flow")
    assert run("run-4") == ("succeeded", 15), "the helper changed: the step runs again"
