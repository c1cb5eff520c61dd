# expect-rule: batch-no-instance
# expect-line: 10
# expect-message: step 'train' asks Batch for 8 GPU(s), 96 vCPUs and 700,000 MiB, which no instance of the GPU compute environment has: the job would wait RUNNABLE for ever
"""A Batch job larger than every instance of the compute environment: AWS Batch would leave
it RUNNABLE for ever, with no error."""
from stepstone import Batch, step, workflow


@step(compute=Batch(gpus=8, vcpus=96, memory=700_000))
def train(rows: int) -> float:
    return 0.9


@workflow
def giant_training(rows: int = 1000) -> float:
    return train(rows)
