"""List prices (Step Functions, Lambda, the Batch instances), the cheapest instance a job fits
on, and what a finished run cost from its real counts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..deployment.instances import BATCH_MEMORY_USABLE, INSTANCES, Instance, environment_types
from ..errors import CostError

__all__ = ["PRICES", "Instance", "Prices", "cheapest_instance", "run_cost"]


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
    batch_memory_usable: float = BATCH_MEMORY_USABLE  # AWS Batch keeps ~5% for the ECS agent and the OS
    # the Batch instance types, GPU and CPU (a job runs on one its compute environment has;
    # on-demand prices: Spot, cheaper and changing, is not estimated)
    instances: tuple[Instance, ...] = INSTANCES

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


def cheapest_instance(gpus: int, vcpus: int, memory_mib: int, prices: Prices = PRICES,
                      families: Sequence[str] | None = None) -> Instance:
    """The cheapest instance of the compute environment a job asking for this goes to (GPU or
    CPU types, of ``families`` when it names some) that it fits on."""
    names = {i.name for i in environment_types(gpus, families)}
    environment = [i for i in prices.instances if i.name in names] or list(prices.instances)
    fitting = [i for i in environment if i.fits(gpus, vcpus, memory_mib, prices.batch_memory_usable)]
    if not fitting:
        largest = max(environment, key=lambda i: (i.gpus, i.vcpus, i.memory_gib))
        raise CostError(
            f"no instance of the compute environment fits a job asking for {gpus} GPU(s), {vcpus} vCPU(s) and "
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
