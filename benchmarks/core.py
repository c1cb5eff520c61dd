"""What every benchmark shares: a figure with the baseline it is compared to, and the run's settings.

Each benchmark module has ``run(ctx: Context) -> list[Figure]``. A figure is measured in this
run, on this machine, next to its baseline (the floor: the least the work can cost; or a
peer: another tool doing the same work), so the ratio means something however busy the
machine is. A goal, when the issue sets one, is checked and printed, never asserted in a
test: these machines are shared and noisy.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "Context", "Figure", "best_of", "timed"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Context:
    """How a benchmark run goes: ``smoke`` runs every benchmark at tiny sizes (what the test
    suite does, so none can rot); ``seed`` makes the generated workflows the same each time."""

    smoke: bool = False
    seed: int = 20261122
    work: Path = field(default_factory=lambda: ROOT / ".stepstone" / "bench")
    say: Callable[[str], None] = lambda line: None  # progress, one line at a time

    def size(self, full: int, smoke: int) -> int:
        return smoke if self.smoke else full


@dataclass
class Figure:
    """One measured figure and its baseline, measured in the same run."""

    benchmark: str  # which of the seven: "compile", "parallelism", "cost", "local", "localstack", ...
    name: str  # what was measured, e.g. "compile 1,000 steps"
    value: float | None
    unit: str  # "s", "ms", "ratio", "transitions/step", "MB", ...
    baseline_name: str = ""  # e.g. "json.dumps of the same ASL" or "Prefect 3.9.1"
    baseline: float | None = None
    goal: str = ""  # in words, e.g. "<= 6" or ">= 20x faster than the CDK"
    met: bool | None = None  # the goal met (None: no goal, or not measurable here)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / baseline (how many times the baseline this costs)."""
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call of ``fn`` takes (garbage collected before, not during), and its result."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result
    finally:
        if enabled:
            gc.enable()


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """The least of ``repeat`` timings: the one least disturbed by the rest of the machine."""
    return min(timed(fn)[0] for _ in range(max(1, repeat)))


def median(values: list[float]) -> float:
    return statistics.median(values)
