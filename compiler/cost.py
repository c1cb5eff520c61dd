"""What a workflow costs, estimated before it is deployed: a run, a month, a thousand runs.

The estimate walks the compiled state machine (the ASL ``definition``, the most faithful
account of what Step Functions will bill) from ``StartAt``, following ``Next``, every
Choice rule and ``Default``, every ``Catch``, into each Parallel branch and each Map's item
processor, and adds up, for every way through it:

- **state transitions**: one for each state entered (Task, Choice, Pass, Parallel, Map,
  Succeed, Fail, Wait); a Map's item processor counts once per item, every Parallel
  branch counts; a nested run (``startExecution.sync``) adds the child's own;
- **Lambda** requests and GB-seconds: ``memory / 1024 x seconds`` for each Lambda step and
  for the approval function a task token calls;
- **AWS Batch**: the on-demand hours of the cheapest instance of the GPU compute
  environment (``cdk/gpu.py``) that fits the job, and the GPU-hours;
- the **run time** (the critical path: steps in series add up, parallel branches overlap,
  a Map runs its items in waves of its concurrency), which Express bills.

A condition makes several ways through: the estimate reports the cheapest and the costliest
(a lower and an upper bound) for each quantity. Everything it assumes is in
:class:`Assumptions` and comes back in :attr:`Estimate.notes`: step durations (default
:data:`DEFAULT_LAMBDA_SECONDS` / :data:`DEFAULT_BATCH_SECONDS`, or a recorded run's, never
above a step's timeout), the items of each fan-out (a literal list's length, else the
declared most, else :data:`DEFAULT_ITEMS`), runs a month (from the schedules). Retries are
not counted, nor are free tiers, S3, CloudWatch or data transfer.

Prices are a table in this module (:data:`PRICES`) with the date they were taken as.
:func:`run_cost` prices a finished run from its real counts (for ``stepstone show``).
Pure Python, like the rest of the compiler: no boto3, no network.
"""

from __future__ import annotations

import calendar
import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .dsl.expressions import Cron, parse_cron, parse_rate
from .dsl.options import Batch
from .dsl.quotas import DISTRIBUTED_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY
from .dsl.schedules import Schedule
from .ir import Block, CallWorkflow, Copy, FanOut, LiteralValue, StepCall, Workflow
from .plan import blocks_of

if TYPE_CHECKING:
    from .pipeline import CompiledWorkflow

__all__ = [
    "DEFAULT_BATCH_SECONDS",
    "DEFAULT_ITEMS",
    "DEFAULT_LAMBDA_SECONDS",
    "MONTH_DAYS",
    "PRICES",
    "Assumptions",
    "CostError",
    "Estimate",
    "Instance",
    "Prices",
    "Range",
    "StepCost",
    "cheapest_instance",
    "compile_nested",
    "estimate",
    "express_blockers",
    "monthly_runs",
    "run_cost",
]

DEFAULT_LAMBDA_SECONDS = 1.0
DEFAULT_BATCH_SECONDS = 30 * 60.0
DEFAULT_ITEMS = 10
MONTH_DAYS = 30
APPROVAL_MEMORY_MB = 256  # the approval function cdk/runners.py deploys
REFERENCE_YEAR = 2027  # a cron schedule's fires are counted over this (non-leap) year, then scaled to 30 days
PRUNE_ABOVE = 64  # ways through kept whole up to this many; beyond, only each quantity's extremes


class CostError(ValueError):
    """An assumption the estimate cannot use (an unknown step name, a job no instance fits)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


# --- prices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    """An EC2 instance type AWS Batch can start for a job, with its on-demand price."""

    name: str
    gpus: int
    vcpus: int
    memory_gib: int
    usd_per_hour: float

    def fits(self, gpus: int, vcpus: int, memory_mib: int, usable: float) -> bool:
        return self.gpus >= gpus and self.vcpus >= vcpus and memory_mib <= self.memory_gib * 1024 * usable


@dataclass(frozen=True)
class Prices:
    """List prices, with the date and region they were taken as.

    Step Functions: https://aws.amazon.com/step-functions/pricing/ (Express: per request,
    and per GB-second of duration, rounded up to 100 ms, memory billed in 64 MB chunks;
    the first duration tier is used throughout). Lambda: https://aws.amazon.com/lambda/pricing/
    (x86, the architecture cdk/runners.py deploys). EC2 on-demand Linux:
    https://aws.amazon.com/ec2/pricing/on-demand/ (per second, 60 s minimum). AWS Batch
    itself adds nothing. Free tiers are not subtracted.
    """

    date: str = "2026-11"
    region: str = "us-east-1"
    standard_per_transition: float = 0.000025  # $0.025 per 1,000
    express_per_request: float = 0.000001  # $1.00 per million
    express_per_gb_second: float = 0.00001667
    express_memory_step_mb: int = 64
    express_duration_step_seconds: float = 0.1
    lambda_per_request: float = 0.0000002  # $0.20 per million
    lambda_per_gb_second: float = 0.0000166667
    batch_min_seconds: float = 60.0
    batch_memory_usable: float = 0.95  # AWS Batch: keep ~5% of an instance's memory for the ECS agent and the OS
    # The instance types of the GPU compute environment (cdk/gpu.py GPU_INSTANCE_TYPES): every
    # Batch job, GPU or not, runs on one of them.
    instances: tuple[Instance, ...] = (
        Instance("g6.xlarge", 1, 4, 16, 0.8048),
        Instance("g6.2xlarge", 1, 8, 32, 0.9776),
        Instance("g5.xlarge", 1, 4, 16, 1.006),
        Instance("g5.2xlarge", 1, 8, 32, 1.212),
        Instance("g5.4xlarge", 1, 16, 64, 1.624),
        Instance("g5.12xlarge", 4, 48, 192, 5.672),
    )

    @property
    def label(self) -> str:
        return f"{self.region} list prices as of {self.date}"

    def lambda_usd(self, requests: float, gb_seconds: float) -> float:
        return requests * self.lambda_per_request + gb_seconds * self.lambda_per_gb_second

    def express_usd(self, seconds: float, memory_mb: int | None = None, requests: float = 1) -> float:
        """One Express run's own charge (its request and its duration; not the Lambda work it does)."""
        memory = memory_mb or self.express_memory_step_mb
        chunks = max(1, math.ceil(memory / self.express_memory_step_mb))
        gb = chunks * self.express_memory_step_mb / 1024
        billed = max(1, math.ceil(round(seconds / self.express_duration_step_seconds, 6))) \
            * self.express_duration_step_seconds
        return requests * self.express_per_request + requests * billed * gb * self.express_per_gb_second

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "region": self.region,
            "standard_usd_per_transition": self.standard_per_transition,
            "express_usd_per_request": self.express_per_request,
            "express_usd_per_gb_second": self.express_per_gb_second,
            "express_memory_mb": self.express_memory_step_mb,
            "lambda_usd_per_request": self.lambda_per_request,
            "lambda_usd_per_gb_second": self.lambda_per_gb_second,
            "batch_instances": {i.name: {"gpus": i.gpus, "vcpus": i.vcpus, "memory_gib": i.memory_gib,
                                         "usd_per_hour": i.usd_per_hour} for i in self.instances},
        }


PRICES = Prices()


def cheapest_instance(gpus: int, vcpus: int, memory_mib: int, prices: Prices = PRICES) -> Instance:
    """The cheapest instance of the compute environment a job asking for this fits on."""
    fitting = [i for i in prices.instances if i.fits(gpus, vcpus, memory_mib, prices.batch_memory_usable)]
    if not fitting:
        largest = max(prices.instances, key=lambda i: (i.gpus, i.vcpus, i.memory_gib))
        raise CostError(
            f"no instance of the GPU compute environment fits a job asking for {gpus} GPU(s), {vcpus} vCPU(s) and "
            f"{memory_mib:,} MiB", hint=f"the largest is {largest.name} ({largest.gpus} GPUs, {largest.vcpus} vCPUs, "
                                        f"{largest.memory_gib} GiB, of which a job can use about "
                                        f"{int(largest.memory_gib * 1024 * prices.batch_memory_usable):,} MiB)")
    return min(fitting, key=lambda i: (i.usd_per_hour, i.name))


def run_cost(transitions: int, lambda_gb_seconds: float, *, lambda_requests: int = 0,
             batch_hours: Mapping[str, float] | None = None, express: bool = False,
             express_seconds: float = 0.0, prices: Prices = PRICES) -> float:
    """What one finished run cost, in US dollars, from its real counts.

    ``transitions``: the state transitions it made (ignored when ``express``: Express bills
    its request and ``express_seconds`` of duration at 64 MB instead). ``lambda_gb_seconds``
    and ``lambda_requests``: the Lambda work (billed memory / 1024 x billed seconds, summed;
    invocations). ``batch_hours``: instance type -> hours each ran (a type the price table
    does not know raises :class:`CostError`). Free tiers are not subtracted.
    """
    usd = prices.lambda_usd(lambda_requests, lambda_gb_seconds)
    usd += prices.express_usd(express_seconds) if express else transitions * prices.standard_per_transition
    by_name = {i.name: i for i in prices.instances}
    for name, hours in (batch_hours or {}).items():
        if name not in by_name:
            raise CostError(f"no price for instance type {name!r}", hint=f"known: {', '.join(sorted(by_name))}")
        usd += by_name[name].usd_per_hour * hours
    return usd


# --- schedules -----------------------------------------------------------------------------

def _cron_per_month(cron: Cron) -> tuple[float, int]:
    """(runs in a 30-day month, the year counted in): a year's fires in wall-clock time, x 30 / its days."""
    years = cron.years
    counted = REFERENCE_YEAR if REFERENCE_YEAR in years else min(
        (y for y in years if y > REFERENCE_YEAR), default=max(years))
    days = 366 if calendar.isleap(counted) else 365
    fires = 0
    day = date(counted, 1, 1)
    for _ in range(days):
        if cron.fires_on(day):
            fires += cron.times_a_day
        day += timedelta(days=1)
    return fires * MONTH_DAYS / days, counted


def monthly_runs(schedule: Schedule | str) -> float:
    """How many times a schedule starts a run in a 30-day month.

    ``rate(N unit)``: 30 days / the interval (``rate(1 hour)`` = 720). ``cron(...)``, in the
    schedule's own wall-clock time: its fires over a whole year x 30 / the year's days, so a
    daily schedule makes 30, a monthly one 12 x 30 / 365 (about 0.99) and a weekly one about
    4.3. The expression is EventBridge's: ``?``, ``L``, ``W``, ``LW``, ``#`` are understood.
    """
    text = (schedule.expression if isinstance(schedule, Schedule) else schedule).strip()
    try:
        if text.startswith("rate("):
            return MONTH_DAYS * 24 * 60 / parse_rate(text).minutes
        if text.startswith("cron("):
            return _cron_per_month(parse_cron(text))[0]
    except ValueError:
        pass
    raise CostError(f"cannot count the runs of schedule {text!r}",
                    hint='write cron("0 3 * * ? *") or rate(1, "hour"), as stepstone.cron/rate take them')


# --- assumptions and results ---------------------------------------------------------------


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
        return {"min": _tidy(self.low), "max": _tidy(self.high)}


def _tidy(value: float) -> float | int:
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
                "memory_mb": self.memory_mb, "seconds": _tidy(self.seconds), "source": self.source,
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
class _Path:
    """What one way through (part of) a state machine uses."""

    transitions: float = 0
    lambda_requests: float = 0
    lambda_gb_seconds: float = 0.0
    batch_hours: float = 0.0  # instance-hours billed
    gpu_hours: float = 0.0
    batch_usd: float = 0.0
    other_usd: float = 0.0  # nested Express runs' own charges
    seconds: float = 0.0  # wall clock

    def then(self, other: _Path) -> _Path:
        return _Path(*(a + b for a, b in zip(self._numbers(), other._numbers())))

    def beside(self, other: _Path) -> _Path:
        summed = self.then(other)
        return dataclasses.replace(summed, seconds=max(self.seconds, other.seconds))

    def times(self, count: int, waves: int) -> _Path:
        numbers = [n * count for n in self._numbers()]
        numbers[-1] = self.seconds * waves
        return _Path(*numbers)

    def _numbers(self) -> list[float]:
        return [self.transitions, self.lambda_requests, self.lambda_gb_seconds, self.batch_hours, self.gpu_hours,
                self.batch_usd, self.other_usd, self.seconds]

    def work_usd(self, prices: Prices) -> float:
        """What the run's work costs whatever the workflow type: Lambda, Batch, nested Express runs."""
        return prices.lambda_usd(self.lambda_requests, self.lambda_gb_seconds) + self.batch_usd + self.other_usd

    def standard_usd(self, prices: Prices) -> float:
        return self.transitions * prices.standard_per_transition + self.work_usd(prices)

    def express_usd(self, prices: Prices, memory_mb: int) -> float:
        return prices.express_usd(self.seconds, memory_mb) + self.work_usd(prices)


_START = _Path()
_METRICS = ("transitions", "lambda_requests", "lambda_gb_seconds", "batch_hours", "gpu_hours", "batch_usd",
            "other_usd", "seconds")


def _prune(paths: Iterable[_Path], prices: Prices) -> list[_Path]:
    """The distinct ways; when there are many, only those at an extreme of some quantity
    (which keeps every quantity's min and max exact through series, parallel and Map)."""
    unique = list(dict.fromkeys(paths))
    if len(unique) <= PRUNE_ABOVE:
        return unique
    keys: list[Any] = [lambda p, m=m: getattr(p, m) for m in _METRICS]
    keys.append(lambda p: p.standard_usd(prices))
    kept: dict[_Path, None] = {}
    for key in keys:
        kept[min(unique, key=key)] = None
        kept[max(unique, key=key)] = None
    return list(kept)


@dataclass(frozen=True)
class Estimate:
    """One workflow's estimated cost; see the module's docstring for what is counted."""

    workflow: str
    type: str  # the declared type: "standard" | "express"
    prices: Prices
    paths: tuple[_Path, ...] = field(repr=False)
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
                "runs": _tidy(runs),
                "schedules": [{"expression": e, "timezone": tz, "runs": _tidy(r)} for e, tz, r in self.schedules],
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


# --- Express ---------------------------------------------------------------------------------


def express_blockers(compiled: CompiledWorkflow) -> list[str]:
    """Why this workflow could not be an Express workflow (empty when it could): the
    compiler's own Express rules, applied as if it were declared ``type="express"``."""
    from .checks import CheckContext
    from .checks.express import express_duration, express_integrations

    context = CheckContext(workflow=dataclasses.replace(compiled.workflow, type="express"),
                           planner=compiled.planner)
    return [error.message for error in (*express_integrations(context), *express_duration(context))]


# --- the walk ----------------------------------------------------------------------------------


def _nodes(block: Block) -> Iterator[Any]:
    for unit in block.units:
        yield unit.node
        for inner in blocks_of(unit.node):
            yield from _nodes(inner)


def _describe_trigger(trigger: Any) -> str:
    kind = type(trigger).__name__
    if kind == "S3Upload":
        return f"s3_upload s3://{trigger.bucket}/{trigger.prefix}*{trigger.suffix}"
    if kind == "WorkflowSucceeded":
        return f"workflow_succeeded {trigger.workflow}"
    return kind


class _Walker:
    def __init__(self, compiled: CompiledWorkflow, assumptions: Assumptions, prices: Prices,
                 nested: Mapping[str, Estimate]) -> None:
        self.compiled = compiled
        self.wf: Workflow = compiled.workflow
        self.assumptions = assumptions
        self.prices = prices
        self.nested = nested
        self.calls: dict[str, StepCall] = {}
        self.children: dict[str, CallWorkflow] = {}
        self.fanouts: dict[str, FanOut] = {}
        literals: dict[str, Any] = {}
        for node in _nodes(self.wf.body):
            if isinstance(node, StepCall):
                self.calls[node.name] = node
            elif isinstance(node, CallWorkflow):
                self.children[node.name] = node
            elif isinstance(node, FanOut):
                self.fanouts[node.name] = node
            elif isinstance(node, Copy) and isinstance(node.value, LiteralValue):
                literals[node.binding] = node.value.value
        self.literals = literals
        self.recorded = assumptions.recorded.get(self.wf.name, {})
        self.steps: dict[str, StepCost] = {}
        self.maps: dict[str, MapItems] = {}

    # what each kind of state costs on its own --------------------------------------------

    def machine(self, machine: Mapping[str, Any]) -> list[_Path]:
        states: Mapping[str, Any] = machine["States"]
        order: list[str] = []
        seen: set[str] = set()
        stack: list[tuple[str, bool]] = [(machine["StartAt"], False)]
        on_path: set[str] = set()
        while stack:  # post-order: a state after every state it can go to
            name, done = stack.pop()
            if done:
                on_path.discard(name)
                order.append(name)
                continue
            if name in seen:
                if name in on_path:
                    raise CostError(f"state {name!r} of {self.wf.name} is in a loop; the estimate needs a DAG")
                continue
            seen.add(name)
            on_path.add(name)
            stack.append((name, True))
            stack.extend((target, False) for target in self._targets(states[name]))
        ways: dict[str, list[_Path]] = {}
        for name in order:
            state = states[name]
            own = self.state(name, state)
            kind = state["Type"]
            if kind == "Choice":
                targets = [c["Next"] for c in state.get("Choices", [])] + ([state["Default"]] if "Default" in state
                                                                           else [])
                rest = [p for t in targets for p in ways[t]] + ([] if "Default" in state else [_START])
            elif kind in ("Succeed", "Fail") or state.get("End"):
                rest = [_START]
            else:
                rest = list(ways[state["Next"]])
            result = [o.then(r) for o in own for r in rest]
            for catcher in state.get("Catch", []):  # the state fails (after its work) and the handler runs
                result.extend(o.then(r) for o in own for r in ways[catcher["Next"]])
            ways[name] = _prune(result, self.prices)
        return ways[machine["StartAt"]]

    @staticmethod
    def _targets(state: Mapping[str, Any]) -> list[str]:
        targets = [c["Next"] for c in state.get("Choices", [])] + [c["Next"] for c in state.get("Catch", [])]
        targets += [state[key] for key in ("Next", "Default") if key in state]
        return targets

    def state(self, name: str, state: Mapping[str, Any]) -> list[_Path]:
        one = _Path(transitions=1)
        kind = state["Type"]
        if kind == "Task":
            return [one.then(p) for p in self.task(name, state)]
        if kind == "Parallel":
            combined = [one]
            for branch in state["Branches"]:
                inner = self.machine(branch)
                combined = _prune((c.beside(p) for c in combined for p in inner), self.prices)
            return combined
        if kind == "Map":
            processor = state.get("ItemProcessor") or state["Iterator"]
            distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
            items = self.items(name)
            limit = int(state.get("MaxConcurrency") or 0)
            if distributed:
                limit = limit or DISTRIBUTED_MAP_CONCURRENCY
            else:
                limit = min(limit or INLINE_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY)
            waves = math.ceil(items / limit)
            return [one.then(p.times(items, waves)) for p in self.machine(processor)]
        if kind == "Wait":
            return [dataclasses.replace(one, seconds=float(state.get("Seconds", 0)))]
        return [one]  # Pass, Choice, Succeed, Fail

    def task(self, name: str, state: Mapping[str, Any]) -> list[_Path]:
        resource = str(state.get("Resource", ""))
        parameters = state.get("Parameters") or {}
        if resource.endswith(":lambda:invoke.waitForTaskToken"):
            seconds = self.assumptions.lambda_seconds
            self.steps[name] = StepCost(self.wf.name, name, "approval", "approval", APPROVAL_MEMORY_MB, seconds,
                                        "default")
            return [_Path(lambda_requests=1, lambda_gb_seconds=APPROVAL_MEMORY_MB / 1024 * seconds)]
        if ":states:startExecution.sync" in resource:
            node = self.children.get(name)
            child = self.nested.get(node.workflow) if node else None
            if child is None:
                raise CostError(f"{self.wf.name}: no estimate of the workflow state {name!r} starts",
                                hint="pass the nested workflows' estimates (compile_nested) to estimate()")
            if child.type == "express":
                return [_Path(lambda_requests=p.lambda_requests, lambda_gb_seconds=p.lambda_gb_seconds,
                              batch_hours=p.batch_hours, gpu_hours=p.gpu_hours, batch_usd=p.batch_usd,
                              other_usd=p.other_usd + self.prices.express_usd(p.seconds, child.express_memory_mb),
                              seconds=p.seconds) for p in child.paths]
            return list(child.paths)
        call = self.calls.get(name) or self.calls.get(str(parameters.get("Payload", {}).get("state", "")))
        if call is None:
            raise CostError(f"{self.wf.name}: Task state {name!r} ({resource}) is not a step this estimate knows")
        info = call.step.compute
        seconds, source, capped = self.duration(call)
        if isinstance(info, Batch):
            instance = cheapest_instance(info.gpus, info.vcpus, info.memory, self.prices)
            self.steps[name] = StepCost(self.wf.name, name, call.step.name, "batch", info.memory, seconds, source,
                                        instance=instance.name, usd_per_hour=instance.usd_per_hour, gpus=info.gpus,
                                        vcpus=info.vcpus, capped=capped)
            billed = max(seconds, self.prices.batch_min_seconds) / 3600
            return [_Path(batch_hours=billed, gpu_hours=info.gpus * seconds / 3600,
                          batch_usd=billed * instance.usd_per_hour, seconds=seconds)]
        self.steps[name] = StepCost(self.wf.name, name, call.step.name, "lambda", info.memory, seconds, source,
                                    capped=capped)
        return [_Path(lambda_requests=1, lambda_gb_seconds=info.memory / 1024 * seconds, seconds=seconds)]

    def duration(self, call: StepCall) -> tuple[float, str, bool]:
        given = self.assumptions.durations
        if call.name in given or call.step.name in given:
            seconds, source = given.get(call.name, given.get(call.step.name, 0.0)), "--duration"
        elif call.name in self.recorded or call.step.name in self.recorded:
            seconds = self.recorded.get(call.name, self.recorded.get(call.step.name, 0.0))
            source = "recorded"
        else:
            batch = isinstance(call.step.compute, Batch)
            seconds = self.assumptions.batch_seconds if batch else self.assumptions.lambda_seconds
            source = "default"
        limits = [t for t in (call.step.timeout, getattr(call.step.compute, "timeout_seconds", None)) if t]
        if limits and seconds > min(limits):
            return float(min(limits)), source, True
        return float(seconds), source, False

    def items(self, name: str) -> int:
        fan = self.fanouts.get(name)
        by_map = self.assumptions.items_by_map
        inner: set[str] = set()
        literal: Any = None
        if fan is not None:
            inner = {n.step.name for n in _nodes(fan.body) if isinstance(n, StepCall)}
            items = fan.items
            literal = items.value if isinstance(items, LiteralValue) else self.literals.get(getattr(items, "key", ""))
        chosen = next((k for k in [name, *sorted(inner)] if k in by_map), None)
        if chosen is not None:
            count, source = by_map[chosen], f"--items {chosen}="
        elif isinstance(literal, list):
            count, source = len(literal), "a literal list"
        elif self.assumptions.items is not None:
            count, source = self.assumptions.items, "--items"
        elif fan is not None and fan.max_items is not None:
            count, source = fan.max_items, "the declared most"
        else:
            count, source = self.assumptions.default_items, "default"
        if fan is not None and fan.max_items is not None and count > fan.max_items and source != "default":
            count, source = fan.max_items, f"{source}, capped at the declared most"
        self.maps[name] = MapItems(self.wf.name, name, count, source)
        return count


def compile_nested(compiled: CompiledWorkflow) -> dict[str, CompiledWorkflow]:
    """Every workflow ``compiled`` starts, transitively, compiled (raises CompileError)."""
    from .dsl.decorated import import_ref
    from .pipeline import compile_workflow

    found: dict[str, CompiledWorkflow] = {}
    pending = [compiled]
    while pending:
        current = pending.pop()
        for node in _nodes(current.workflow.body):
            if isinstance(node, CallWorkflow) and node.workflow not in found and node.workflow != compiled.name:
                child = compile_workflow(import_ref(node.ref))
                found[node.workflow] = child
                pending.append(child)
    return found


def _names(compiled: CompiledWorkflow) -> tuple[set[str], set[str]]:
    """(step and state names a duration can be given for, names a fan-out's items can be given for)."""
    steps: set[str] = set()
    maps: set[str] = set()
    for node in _nodes(compiled.workflow.body):
        if isinstance(node, StepCall):
            steps.update((node.name, node.step.name))
        elif isinstance(node, FanOut):
            maps.add(node.name)
            maps.update(n.step.name for n in _nodes(node.body) if isinstance(n, StepCall))
    return steps, maps


def _check_names(compiled: CompiledWorkflow, nested: Mapping[str, CompiledWorkflow],
                 assumptions: Assumptions) -> None:
    steps: set[str] = set()
    maps: set[str] = set()
    for each in (compiled, *nested.values()):
        more_steps, more_maps = _names(each)
        steps |= more_steps
        maps |= more_maps
    for name in assumptions.durations:
        if name not in steps:
            import difflib

            close = difflib.get_close_matches(name, sorted(steps), n=1)
            raise CostError(f"{compiled.name} has no step named {name!r}" + (f" (did you mean {close[0]!r}?)"
                                                                             if close else ""),
                            hint=f"its steps: {', '.join(sorted(steps))}")
    for name in assumptions.items_by_map:
        if name not in maps:
            raise CostError(f"{compiled.name} has no fan-out named {name!r}",
                            hint=f"name a fan-out by its state or a step it runs: {', '.join(sorted(maps))}"
                            if maps else f"{compiled.name} has no fan-out; drop --items")


def _notes(result: Estimate, assumptions: Assumptions, prices: Prices) -> tuple[str, ...]:
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
        notes.append(f"Batch: each job on its own on-demand instance, the cheapest of the GPU compute environment "
                     f"that fits it (a job can use {prices.batch_memory_usable:.0%} of the instance's memory), "
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


def estimate(compiled: CompiledWorkflow, assumptions: Assumptions | None = None, *,
             nested: Mapping[str, CompiledWorkflow] | None = None, prices: Prices = PRICES) -> Estimate:
    """Estimate one run of ``compiled`` (and a month, a thousand runs) under ``assumptions``.

    ``nested``: the workflows it starts, compiled (default: :func:`compile_nested`, which
    imports them). Raises :class:`CostError` for an assumption naming an unknown step or
    fan-out, or a Batch job no instance fits.
    """
    assumptions = assumptions or Assumptions()
    if nested is None:
        nested = compile_nested(compiled)
    _check_names(compiled, nested, assumptions)
    return _estimate(compiled, assumptions, dict(nested), prices, {})


def _estimate(compiled: CompiledWorkflow, assumptions: Assumptions, nested: Mapping[str, CompiledWorkflow],
              prices: Prices, done: dict[str, Estimate]) -> Estimate:
    wf = compiled.workflow
    children: dict[str, Estimate] = {}
    for node in _nodes(wf.body):
        if isinstance(node, CallWorkflow) and node.workflow not in children:
            if node.workflow not in done:
                if node.workflow not in nested:
                    raise CostError(f"{wf.name} starts {node.workflow}, which was not compiled",
                                    hint="pass nested=compile_nested(compiled), or leave nested out")
                done[node.workflow] = _estimate(nested[node.workflow], assumptions, nested, prices, done)
            children[node.workflow] = done[node.workflow]
    walker = _Walker(compiled, assumptions, prices, children)
    paths = tuple(walker.machine(compiled.definition))
    schedules = tuple((s.expression, s.timezone, monthly_runs(s)) for s in wf.schedules)
    result = Estimate(
        workflow=wf.name, type=wf.type, prices=prices, paths=paths, express_blockers=tuple(express_blockers(compiled)),
        express_memory_mb=assumptions.express_memory_mb, schedules=schedules,
        triggers=tuple(_describe_trigger(t) for t in wf.triggers), runs_per_month_option=assumptions.runs_per_month,
        steps=tuple(walker.steps[name] for name in sorted(walker.steps)),
        maps=tuple(walker.maps[name] for name in sorted(walker.maps)), nested=tuple(children.values()))
    return dataclasses.replace(result, notes=_notes(result, assumptions, prices))
