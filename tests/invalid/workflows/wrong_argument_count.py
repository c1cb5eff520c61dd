# expect-rule: wrong-arguments
# expect-line: 21
# expect-message: train(...) called with the wrong arguments: too many positional arguments
"""A step called with more positional arguments than it takes."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str, epochs: int) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_three_args(dataset_uri: str) -> Model:
    return train(dataset_uri, 10, 0.01)
