# expect-rule: workflow-argument
# expect-line: 33
# expect-message: training(): dataset_uri gets a step result; a workflow's parameters are plain values
"""A whole step result passed to a nested workflow, whose parameters are plain values."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    uri: str
    rows: int


@step
def build_dataset(source: str) -> Dataset:
    return Dataset(uri=source, rows=0)


@step
def train(dataset_uri: str) -> None:
    print(dataset_uri)


@workflow
def training(dataset_uri: str) -> None:
    train(dataset_uri)


@workflow
def pipeline(source: str) -> None:
    dataset = build_dataset(source)
    training(dataset)
