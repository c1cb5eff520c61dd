"""The local-speed (4) and cold-start (6) benchmarks, at smoke sizes: they run and say something.

No timing is asserted (the machines are shared and noisy): each figure must be measured
with its baseline beside it, and the goal checked, whatever the verdict.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from benchmarks import cold_start, local_speed
from benchmarks.core import Context, Figure
from compiler.loader import load_workflows

PEER = Path(local_speed.__file__).resolve().parent / "peers" / "prefect_flow.py"


def by_name(figures: list[Figure], start: str) -> Figure:
    (found,) = [f for f in figures if f.name.startswith(start)]
    return found


def test_local_speed_smoke_measures_stepstone_and_prefect() -> None:
    """Installs Prefect on first use: a venv of its own at .stepstone/bench/prefect-venv (the
    benchmark's work folder, shared with ``python -m benchmarks``), ``pip install prefect==``
    the pinned version from PyPI, a minute or two once; later runs reuse it. The Prefect figure
    may lack its baseline only when that install failed, and then its note says why."""
    lines: list[str] = []
    figures = local_speed.run(Context(smoke=True, say=lines.append))
    assert all(f.benchmark == "local" for f in figures)
    for start in ("per-step overhead, 10-step chain", "  10 independent steps (wide)"):
        figure = by_name(figures, start)
        assert figure.value is not None and figure.value > 0, figure
        assert figure.baseline is not None and figure.baseline > 0, figure
        assert figure.goal == "< 1 ms" and figure.met is not None
    peer = by_name(figures, "stepstone vs Prefect")
    assert peer.goal.startswith(">= 10x less")
    if peer.value is None:
        assert "Prefect could not be installed" in peer.note or "could not make the Prefect venv" in peer.note, \
            peer.note
    else:
        assert peer.baseline is not None and peer.baseline > 0 and peer.met is not None
        assert peer.baseline_name.startswith("Prefect 3.") and "warm-up" in peer.note


def test_the_generated_workflows_run_as_plain_python_and_compile(tmp_path: Path) -> None:
    for shape in ("chain", "wide"):
        path = tmp_path / f"bench_gen_{shape}_check.py"
        path.write_text(local_speed.workflow_source(shape, 4, f"gen_{shape}"))
        (definition,) = load_workflows(str(path))
        assert definition.fn(0) == 0
        steps = [line for line in path.read_text().splitlines() if "= noop(" in line]
        assert len(steps) == 4
        assert (steps[-1].endswith("noop(v2)") if shape == "chain" else all(s.endswith("noop(x)") for s in steps))


def test_the_prefect_peer_imports_nothing_of_stepstone() -> None:
    """It runs under the Prefect venv's interpreter, where none of the project is installed."""
    tree = ast.parse(PEER.read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert "prefect" in roots
    assert not roots & {"stepstone", "compiler", "lambdas", "cdk", "benchmarks", "pydantic"}


SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       764 |      11127 | site
import time:        70 |         70 |       _json
import time:       400 |        470 |     json.decoder
import time:      1200 |       1670 |   json
import time:      3000 |       3000 |     pydantic.version
import time:      5000 |       8000 |   pydantic
import time:      1491 |      11161 | lambdas.step_runner
"""


def test_importtime_output_parses_into_totals_and_the_heaviest_packages() -> None:
    lines = cold_start.parse_importtime(SAMPLE)
    assert [(line.level, line.name) for line in lines][:3] == [(0, "site"), (3, "_json"), (2, "json.decoder")]
    assert cold_start.startup_ms([lines[0]]) == pytest.approx(11.127)
    assert cold_start.total_ms(lines, "lambdas.step_runner", {"site"}) == pytest.approx(11.161)
    # without the module's own top-level line: every top-level line that is not the interpreter's start
    assert cold_start.total_ms(lines[:-1], "lambdas.step_runner", {"site"}) == 0
    assert cold_start.heaviest(lines, {"site"}, 2) == [("pydantic", 8.0), ("json", 1.6)]


def test_cold_start_smoke_measures_imports_and_the_package(tmp_path: Path) -> None:
    figures = cold_start.run(Context(smoke=True, work=tmp_path))
    assert all(f.benchmark == "cold-start" for f in figures)
    here = by_name(figures, "import lambdas.step_runner (this venv")
    assert here.value is not None and here.baseline is not None and 0 < here.baseline < here.value
    assert here.goal == "< 150 ms" and here.met is not None and here.note.startswith("heaviest: ")
    deployed = by_name(figures, "import lambdas.step_runner as deployed")
    size = by_name(figures, "package size")
    if deployed.value is None:  # the dependency layer could not be downloaded here
        assert "layer could not be built" in deployed.note and size.value is None
        return
    assert deployed.baseline is not None and "without its .pyc" in deployed.note
    assert size.value is not None and size.baseline is not None and 0 < size.baseline < size.value
    assert size.met is True and "zipped" in size.note
