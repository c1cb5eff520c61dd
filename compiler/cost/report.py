"""What the estimate assumes and what it finds: :class:`Assumptions` in, an :class:`Estimate`
(ranges: the cheapest and the costliest way through) out, with notes that say what was assumed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import CostError
from .prices import Prices
from .ways import Way

__all__ = ["DEFAULT_BATCH_SECONDS", "DEFAULT_ITEMS", "DEFAULT_LAMBDA_SECONDS", "Assumptions", "Estimate", "MapItems",
           "Range", "StepCost", "notes_of", "tidy"]

DEFAULT_LAMBDA_SECONDS = 1.0
DEFAULT_BATCH_SECONDS = 30 * 60.0
DEFAULT_ITEMS = 10


@dataclass(frozen=True)
class Assumptions:
    """What the estimate cannot know from the workflow; every field has a stated default.

    ``durations``: seconds by step name or state name (e.g. ``notify_data_team_2``), for every
    workflow estimated (nested ones too). ``recorded``: workflow name -> (state or step name ->
    seconds), from a recorded run, used where ``durations`` says nothing; ``recorded_from``
    names it. ``items``: the items of every fan-out whose size is not fixed by a literal list;
    ``items_by_map``: by Map state name or by the name of a step it runs. ``runs_per_month``:
    runs a month started by triggers or by hand, added to the schedules' runs.
    """

    durations: Mapping[str, float] = field(default_factory=dict)
    recorded: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    recorded_from: str | None = None
    items: int | None = None
    items_by_map: Mapping[str, int] = field(default_factory=dict)
    runs_per_month: float | None = None
    lambda_seconds: float = DEFAULT_LAMBDA_SECONDS
    batch_seconds: float = DEFAULT_BATCH_SECONDS
    default_items: int = DEFAULT_ITEMS
    express_memory_mb: int = 64  # a run's state is at most 256 KiB and its definition 1 MB: one 64 MB chunk

    def __post_init__(self) -> None:
        for name, seconds in self.durations.items():
            if not seconds >= 0 or math.isinf(seconds):
                raise CostError(f"duration of {name} must be a number of seconds >= 0, got {seconds!r}")
        counts = [("items", self.items)] + [(f"items of {k}", v) for k, v in self.items_by_map.items()]
        for what, count in counts:
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
                raise CostError(f"{what} must be a whole number >= 0, got {count!r}")
        if self.runs_per_month is not None and not self.runs_per_month >= 0:
            raise CostError(f"runs a month must be >= 0, got {self.runs_per_month!r}")


@dataclass(frozen=True)
class Range:
    """A quantity over the ways through a workflow: the cheapest's and the costliest's."""

    low: float
    high: float

    def __mul__(self, factor: float) -> Range:
        return Range(self.low * factor, self.high * factor)

    def to_json(self) -> dict[str, float | int]:
        return {"min": tidy(self.low), "max": tidy(self.high)}


def tidy(value: float) -> float | int:
    """Six significant digits; a whole number as an int (transitions, requests)."""
    tidy = float(f"{value:.6g}")
    return int(tidy) if tidy.is_integer() and abs(tidy) < 1e15 else tidy


@dataclass(frozen=True)
class StepCost:
    """What the estimate assumed for one Task state."""

    workflow: str
    state: str
    step: str
    compute: str  # "lambda" | "batch" | "approval"
    memory_mb: int
    seconds: float
    source: str  # where ``seconds`` comes from: "default", "--duration" or "recorded"
    instance: str | None = None
    usd_per_hour: float | None = None
    gpus: int = 0
    vcpus: int = 0
    capped: bool = False  # the duration assumed was above the step's timeout: the timeout is used

    def to_json(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "state": self.state, "step": self.step, "compute": self.compute,
                "memory_mb": self.memory_mb, "seconds": tidy(self.seconds), "source": self.source,
                "capped": self.capped, "instance": self.instance, "usd_per_hour": self.usd_per_hour,
                "gpus": self.gpus, "vcpus": self.vcpus}


@dataclass(frozen=True)
class MapItems:
    workflow: str
    state: str
    items: int
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"workflow": self.workflow, "state": self.state, "items": self.items, "source": self.source}


@dataclass(frozen=True)
class Estimate:
    """One workflow's estimated cost; see the module's docstring for what is counted."""

    workflow: str
    type: str  # the declared type: "standard" | "express"
    prices: Prices
    paths: tuple[Way, ...] = field(repr=False)
    express_blockers: tuple[str, ...]
    express_memory_mb: int
    schedules: tuple[tuple[str, str, float], ...]  # (expression, time zone, runs a month)
    triggers: tuple[str, ...]  # what else starts it: "s3_upload raw-data/incoming/*.csv", ...
    runs_per_month_option: float | None
    steps: tuple[StepCost, ...]
    maps: tuple[MapItems, ...]
    nested: tuple[Estimate, ...] = ()
    notes: tuple[str, ...] = ()

    def _range(self, key: Any) -> Range:
        values = [key(p) for p in self.paths]
        return Range(min(values), max(values))

    @property
    def transitions(self) -> Range:
        return self._range(lambda p: p.transitions)

    @property
    def lambda_requests(self) -> Range:
        return self._range(lambda p: p.lambda_requests)

    @property
    def lambda_gb_seconds(self) -> Range:
        return self._range(lambda p: p.lambda_gb_seconds)

    @property
    def batch_hours(self) -> Range:
        return self._range(lambda p: p.batch_hours)

    @property
    def gpu_hours(self) -> Range:
        return self._range(lambda p: p.gpu_hours)

    @property
    def seconds(self) -> Range:
        return self._range(lambda p: p.seconds)

    @property
    def standard_usd(self) -> Range:
        """Dollars a run as a Standard workflow."""
        return self._range(lambda p: p.standard_usd(self.prices))

    @property
    def express_possible(self) -> bool:
        return not self.express_blockers

    @property
    def express_usd(self) -> Range | None:
        """Dollars a run as an Express workflow; None when it cannot be one."""
        if self.express_blockers:
            return None
        return self._range(lambda p: p.express_usd(self.prices, self.express_memory_mb))

    @property
    def runs_per_month(self) -> float | None:
        """Runs a month: the schedules' plus ``runs_per_month``; None when neither says."""
        if not self.schedules and self.runs_per_month_option is None:
            return None
        return sum(runs for _, _, runs in self.schedules) + (self.runs_per_month_option or 0)

    def to_json(self) -> dict[str, Any]:
        runs = self.runs_per_month
        express = self.express_usd

        def usd(factor: float) -> dict[str, Any]:
            return {"standard_usd": (self.standard_usd * factor).to_json(),
                    "express_usd": (express * factor).to_json() if express else None}

        return {
            "workflow": self.workflow,
            "type": self.type,
            "prices": self.prices.to_json(),
            "per_run": {
                "transitions": self.transitions.to_json(),
                "lambda_requests": self.lambda_requests.to_json(),
                "lambda_gb_seconds": self.lambda_gb_seconds.to_json(),
                "batch_instance_hours": self.batch_hours.to_json(),
                "gpu_hours": self.gpu_hours.to_json(),
                "seconds": self.seconds.to_json(),
                **usd(1),
            },
            "express": {"possible": self.express_possible, "reasons": list(self.express_blockers)},
            "per_month": None if runs is None else {
                "runs": tidy(runs),
                "schedules": [{"expression": e, "timezone": tz, "runs": tidy(r)} for e, tz, r in self.schedules],
                "other_runs": self.runs_per_month_option,
                **usd(runs),
            },
            "per_1000_runs": usd(1000),
            "triggers": list(self.triggers),
            "steps": [s.to_json() for s in self.steps],
            "maps": [m.to_json() for m in self.maps],
            "nested": [{k: v for k, v in n.to_json().items() if k != "prices"} for n in self.nested],
            "assumptions": list(self.notes),
        }


def notes_of(result: Estimate, assumptions: Assumptions, prices: Prices) -> tuple[str, ...]:
    notes = [
        "min-max: the cheapest and the costliest way through the conditions (every Choice branch, every "
        "Catch handler); retries are not counted",
        f"step durations: Lambda {_seconds_text(assumptions.lambda_seconds)}, Batch "
        f"{_seconds_text(assumptions.batch_seconds)}, unless given (--duration, --from-run); never above a "
        "step's timeout",
    ]
    if any(s.source == "recorded" for s in result.steps):
        notes.append(f"recorded: durations from {assumptions.recorded_from or 'a recorded run'} (an attempt's; a "
                     "fan-out's items averaged); steps it did not run take the defaults")
    if any(s.capped for s in result.steps):
        capped = ", ".join(s.state for s in result.steps if s.capped)
        notes.append(f"capped: {capped} would run longer than its timeout, so the timeout is used")
    if any(s.compute == "approval" for s in result.steps):
        notes.append("approval: the approval function's call is counted; the wait for a person is not billed")
    if result.maps:
        notes.append("fan-outs: " + "; ".join(f"{m.state} x {m.items} items ({m.source})" for m in result.maps))
    if any(s.compute == "batch" for s in result.steps):
        notes.append(f"Batch: each job on its own on-demand instance (Spot is cheaper and not estimated), the "
                     f"cheapest of its queue's (GPU or CPU, of the families it names) that fits it (a job can use "
                     f"{prices.batch_memory_usable:.0%} of the instance's memory), "
                     f"billed per second with a {prices.batch_min_seconds:.0f} s minimum; start-up time not counted")
    for step in result.steps:
        if step.compute == "batch" and step.instance is not None:
            notes.extend(_memory_note(step, prices))
    if result.express_possible:
        notes.append(f"Express: {assumptions.express_memory_mb} MB of memory, the run time rounded up to "
                     f"{prices.express_duration_step_seconds * 1000:.0f} ms")
    if result.nested:
        notes.append("nested runs counted in full: " + ", ".join(n.workflow for n in result.nested))
    notes.append("free tiers, S3, CloudWatch, X-Ray and data transfer are not counted")
    notes.append(f"prices: {prices.label}")
    return tuple(notes)


def _memory_note(step: StepCost, prices: Prices) -> list[str]:
    """Say so when a job asks for an instance's whole memory and so needs a larger, dearer one."""
    chosen = next(i for i in prices.instances if i.name == step.instance)
    usable = prices.batch_memory_usable
    cheaper = [i for i in prices.instances if i.usd_per_hour < chosen.usd_per_hour
               and i.fits(step.gpus, step.vcpus, step.memory_mb, 1.0)
               and not i.fits(step.gpus, step.vcpus, step.memory_mb, usable)]
    if not cheaper:
        return []
    best = min(cheaper, key=lambda i: i.usd_per_hour)
    room = int(best.memory_gib * 1024 * usable)
    return [f"{step.state} asks for {step.memory_mb:,} MiB, more than a {best.memory_gib} GiB instance leaves for "
            f"jobs, so it needs {chosen.name} (${chosen.usd_per_hour}/h); with memory={room} or less it would fit "
            f"{best.name} (${best.usd_per_hour}/h)"]


def _seconds_text(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds / 60
        return f"{minutes / 60:g} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes:g} min"
    return f"{seconds:g} s"
