# expect-rule: opaque-error
# expect-line: 9
# expect-message: train runs on AWS Batch, whose failures Step Functions reports as States.TaskFailed, never as TransientError; this retry would never happen
"""A Batch step retried on a Python exception: Step Functions sees a Batch job's failure only as States.TaskFailed."""
from stepstone import Batch, Retry, TransientError, step, workflow


@step(compute=Batch(vcpus=4, memory=16384), retry=Retry(attempts=3, on=[TransientError]))
def train(dataset_uri: str) -> str:
    return "s3://models/m"


@workflow
def training(dataset_uri: str) -> str:
    return train(dataset_uri)
