"""The instance types of the GPU compute environment (``cdk/gpu.py`` deploys it), with their
on-demand prices: every Batch job, GPU or not, runs on one of them, and the cost model
prices a job by the cheapest that fits it. Prices: EC2 on-demand Linux, us-east-1,
https://aws.amazon.com/ec2/pricing/on-demand/ as of :data:`PRICED`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BATCH_MEMORY_USABLE", "GPU_INSTANCES", "PRICED", "Instance", "instance_for", "largest_instance"]

PRICED = "2026-11"
BATCH_MEMORY_USABLE = 0.95  # AWS Batch keeps ~5% of an instance's memory for the ECS agent and the OS


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


GPU_INSTANCES: tuple[Instance, ...] = (
    Instance("g6.xlarge", 1, 4, 16, 0.8048),
    Instance("g6.2xlarge", 1, 8, 32, 0.9776),
    Instance("g5.xlarge", 1, 4, 16, 1.006),
    Instance("g5.2xlarge", 1, 8, 32, 1.212),
    Instance("g5.4xlarge", 1, 16, 64, 1.624),
    Instance("g5.12xlarge", 4, 48, 192, 5.672),
)


def instance_for(gpus: int, vcpus: int, memory_mib: int) -> Instance | None:
    """The cheapest instance of the environment a job asking for this fits on (None: none does)."""
    fitting = [i for i in GPU_INSTANCES if i.fits(gpus, vcpus, memory_mib, BATCH_MEMORY_USABLE)]
    return min(fitting, key=lambda i: (i.usd_per_hour, i.name)) if fitting else None


def largest_instance() -> Instance:
    return max(GPU_INSTANCES, key=lambda i: (i.gpus, i.vcpus, i.memory_gib))

