"""The instance types AWS Batch may start for a job, with their on-demand prices: GPU types
for jobs that ask for GPUs, CPU types for the others (a CPU job never lands on a GPU
instance), each narrowed to the families a step names (``Batch(instances=["g6"])``).
``cdk/gpu.py`` deploys one compute environment per (kind, families, Spot) the jobs use;
the cost model prices a job by the cheapest type that fits it; the compiler refuses a job
that fits none. Prices: EC2 on-demand Linux, us-east-1,
https://aws.amazon.com/ec2/pricing/on-demand/ as of :data:`PRICED` (Spot is cheaper and
varies by the hour: estimates use on-demand, an upper bound).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BATCH_MEMORY_USABLE", "CPU_INSTANCES", "DEFAULT_GPU_FAMILIES", "GPU_INSTANCES", "INSTANCES", "PRICED",
           "Instance", "environment_types", "family_of", "instance_for", "largest_instance"]

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

    @property
    def family(self) -> str:
        return family_of(self.name)

    def fits(self, gpus: int, vcpus: int, memory_mib: int, usable: float) -> bool:
        return self.gpus >= gpus and self.vcpus >= vcpus and memory_mib <= self.memory_gib * 1024 * usable


def family_of(name: str) -> str:
    """``g6`` for ``g6.xlarge``."""
    return name.split(".")[0]


GPU_INSTANCES: tuple[Instance, ...] = (
    Instance("g6.xlarge", 1, 4, 16, 0.8048),
    Instance("g6.2xlarge", 1, 8, 32, 0.9776),
    Instance("g6.12xlarge", 4, 48, 192, 4.6016),
    Instance("g5.xlarge", 1, 4, 16, 1.006),
    Instance("g5.2xlarge", 1, 8, 32, 1.212),
    Instance("g5.4xlarge", 1, 16, 64, 1.624),
    Instance("g5.12xlarge", 4, 48, 192, 5.672),
    # after AWS's June 2025 cut of P4 and P5 on-demand prices (up to 45%); the least sure figures here
    Instance("p4d.24xlarge", 8, 96, 1152, 21.96),
    Instance("p5.48xlarge", 8, 192, 2048, 55.04),
)
DEFAULT_GPU_FAMILIES = ("g5", "g6")  # the A10G and L4 types: p4d and p5 only when a step names them

CPU_INSTANCES: tuple[Instance, ...] = (
    Instance("m6i.large", 0, 2, 8, 0.096),
    Instance("m6i.xlarge", 0, 4, 16, 0.192),
    Instance("m6i.2xlarge", 0, 8, 32, 0.384),
    Instance("m6i.4xlarge", 0, 16, 64, 0.768),
    Instance("m6i.8xlarge", 0, 32, 128, 1.536),
    Instance("c6i.xlarge", 0, 4, 8, 0.17),
    Instance("c6i.4xlarge", 0, 16, 32, 0.68),
    Instance("r6i.xlarge", 0, 4, 32, 0.252),
    Instance("r6i.4xlarge", 0, 16, 128, 1.008),
    Instance("r6i.8xlarge", 0, 32, 256, 2.016),
)

INSTANCES = GPU_INSTANCES + CPU_INSTANCES


def environment_types(gpus: int, families: Sequence[str] | None = None) -> tuple[Instance, ...]:
    """The types of the compute environment a job asking for ``gpus`` goes to: GPU types for
    a GPU job (the default families unless it names others), CPU types for a CPU job, each
    narrowed to ``families`` (names like ``g6``, or whole types like ``g6.2xlarge``)."""
    table = GPU_INSTANCES if gpus else CPU_INSTANCES
    if families:
        return tuple(i for i in table if i.family in families or i.name in families)
    return tuple(i for i in table if not gpus or i.family in DEFAULT_GPU_FAMILIES)


def instance_for(gpus: int, vcpus: int, memory_mib: int, families: Sequence[str] | None = None) -> Instance | None:
    """The cheapest type of the job's compute environment it fits on (None: none does)."""
    fitting = [i for i in environment_types(gpus, families) if i.fits(gpus, vcpus, memory_mib, BATCH_MEMORY_USABLE)]
    return min(fitting, key=lambda i: (i.usd_per_hour, i.name)) if fitting else None


def largest_instance(gpus: int = 1, families: Sequence[str] | None = None) -> Instance:
    return max(environment_types(gpus, families) or GPU_INSTANCES, key=lambda i: (i.gpus, i.vcpus, i.memory_gib))
