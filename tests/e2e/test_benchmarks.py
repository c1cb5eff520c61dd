"""The benchmark suite's smoke run: `python -m benchmarks --smoke`, every benchmark at tiny
sizes, as a user runs it, so none of them can rot. It checks that each gives its figures
with the baselines measured beside them; it asserts no timing (the machines are shared)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.localstack  # cost and the LocalStack loop run there


def test_the_smoke_run_gives_every_figure_with_its_baseline(localstack: object, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--json", str(results)], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(results.read_text())
    assert report["smoke"] is True and report["machine"]["cpus"]
    assert list(report["benchmarks"]) == ["compile", "parallelism", "cost", "local", "localstack", "cold-start",
                                          "cdk-synth", "values"]
    for name, benchmark in report["benchmarks"].items():
        figures = benchmark["figures"]
        assert figures, name
        for figure in figures:
            assert not figure["note"].startswith("failed:"), (name, figure)
        measured = [f for f in figures if f["value"] is not None and f["baseline"] is not None]
        assert measured, f"{name}: no figure with a baseline measured in the same run"
    for title in ("1. compile scale", "4. local iteration speed", "7. cdk synth of the examples app"):
        assert title in done.stdout
