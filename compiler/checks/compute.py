"""Where a step runs: a Batch job must fit an instance of the compute environment it is
sent to, or AWS Batch leaves it RUNNABLE for ever (no error, no timeout: nothing fails)."""

from __future__ import annotations

from collections.abc import Iterable

from ..deployment.instances import BATCH_MEMORY_USABLE, instance_for, largest_instance
from ..dsl.errors import CompileError
from ..dsl.options import Batch
from . import CheckContext, rule


@rule("batch-no-instance")
def batch_fits(context: CheckContext) -> Iterable[CompileError]:
    for step in context.workflow.steps.values():
        compute = step.compute
        if not isinstance(compute, Batch) or instance_for(compute.gpus, compute.vcpus, compute.memory) is not None:
            continue
        largest = largest_instance()
        usable = int(largest.memory_gib * 1024 * BATCH_MEMORY_USABLE)
        yield CompileError(
            f"step {step.name!r} asks Batch for {compute.gpus} GPU(s), {compute.vcpus} vCPUs and "
            f"{compute.memory:,} MiB, which no instance of the compute environment has: the job would wait "
            "RUNNABLE for ever", rule="batch-no-instance", location=step.location,
            hint=f"the largest is {largest.name}: {largest.gpus} GPUs, {largest.vcpus} vCPUs and about {usable:,} "
                 f"MiB a job can use; ask for at most that (Batch(gpus={min(compute.gpus, largest.gpus)}, "
                 f"vcpus={min(compute.vcpus, largest.vcpus)}, memory={min(compute.memory, usable)}))")
