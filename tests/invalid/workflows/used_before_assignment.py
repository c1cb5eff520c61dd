# expect-rule: used-before-assignment
# expect-line: 30
# expect-message: 'dataset' is used before it is assigned (at line 31)
"""A variable used on a line before the line that assigns it."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    uri: str


class Model(BaseModel):
    uri: str


@step
def build_dataset(source: str) -> Dataset:
    return Dataset(uri=source)


@step
def train(dataset: Dataset) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_out_of_order(source: str) -> Model:
    model = train(dataset)
    dataset = build_dataset(source)
    return model
