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
  environment (``compiler/deployment/instances.py``) that fits the job, and the GPU-hours;
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

from .calendar import MONTH_DAYS, monthly_runs
from .prices import PRICES, Instance, Prices, cheapest_instance, run_cost
from .report import (
    DEFAULT_BATCH_SECONDS,
    DEFAULT_ITEMS,
    DEFAULT_LAMBDA_SECONDS,
    Assumptions,
    Estimate,
    MapItems,
    Range,
    StepCost,
)
from .walk import compile_nested, estimate, express_blockers

__all__ = [
    "DEFAULT_BATCH_SECONDS",
    "DEFAULT_ITEMS",
    "DEFAULT_LAMBDA_SECONDS",
    "MONTH_DAYS",
    "PRICES",
    "Assumptions",
    "Estimate",
    "Instance",
    "MapItems",
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
