# expect-rule: wrong-arguments
# expect-line: 21
# expect-message: train(...) called with the wrong arguments: missing a required argument: 'epochs'
"""A step called without one of its required arguments."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str, epochs: int) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_default(dataset_uri: str) -> Model:
    return train(dataset_uri)
