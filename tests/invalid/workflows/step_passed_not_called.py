# expect-rule: step-not-called
# expect-line: 26
# expect-message: 'build_dataset' is a step; call it to use its result: build_dataset(...)
"""A step function passed as a value instead of its result (missing call parentheses)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    uri: str


@step
def build_dataset() -> Dataset:
    return Dataset(uri="s3://data/d")


@step
def train(dataset: Dataset) -> str:
    return "s3://models/m"


@workflow
def train_forgot_call() -> str:
    return train(build_dataset)
