"""Where a step runs: a Batch job must fit an instance of the compute environment it is
sent to (GPU types for a GPU job, CPU types for the others, narrowed to the families it
names), or AWS Batch leaves it RUNNABLE for ever (no error, no timeout: nothing fails)."""

from __future__ import annotations

from collections.abc import Iterable

from ..deployment.instances import BATCH_MEMORY_USABLE, INSTANCES, environment_types, instance_for, largest_instance
from ..dsl.errors import CompileError
from ..dsl.options import Batch
from . import CheckContext, rule


@rule("batch-no-instance")
def batch_fits(context: CheckContext) -> Iterable[CompileError]:
    for step in context.workflow.steps.values():
        compute = step.compute
        if not isinstance(compute, Batch):
            continue
        families = compute.instances
        kind = "GPU" if compute.gpus else "CPU"
        if families and not environment_types(compute.gpus, families):
            known = sorted({i.family for i in INSTANCES if bool(i.gpus) == bool(compute.gpus)})
            yield CompileError(
                f"step {step.name!r} asks for Batch instances {', '.join(families)}, none of which is a {kind} "
                "instance type stepstone knows (and prices)", rule="batch-no-instance", location=step.location,
                hint=f"name {kind} families ({', '.join(known)}), or " + (
                    "make it a CPU job (gpus=0) to run on CPU instances" if compute.gpus else
                    "ask for GPUs (gpus=1 or more) to run on GPU instances"))
            continue
        if instance_for(compute.gpus, compute.vcpus, compute.memory, families) is not None:
            continue
        largest = largest_instance(compute.gpus, families)
        usable = int(largest.memory_gib * 1024 * BATCH_MEMORY_USABLE)
        where = f"the {kind} instances {', '.join(families)}" if families else f"the {kind} compute environment"
        yield CompileError(
            f"step {step.name!r} asks Batch for {compute.gpus} GPU(s), {compute.vcpus} vCPUs and "
            f"{compute.memory:,} MiB, which no instance of {where} has: the job would wait RUNNABLE for ever",
            rule="batch-no-instance", location=step.location,
            hint=f"the largest is {largest.name}: {largest.gpus} GPUs, {largest.vcpus} vCPUs and about {usable:,} "
                 f"MiB a job can use; ask for at most that (Batch(gpus={min(compute.gpus, largest.gpus)}, "
                 f"vcpus={min(compute.vcpus, largest.vcpus)}, memory={min(compute.memory, usable)}))"
                 + ("" if families else ", or name larger instances: Batch(..., instances=['p4d'])"))
