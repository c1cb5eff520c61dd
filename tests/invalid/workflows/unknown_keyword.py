# expect-rule: wrong-arguments
# expect-line: 21
# expect-message: train(...) called with the wrong arguments: got an unexpected keyword argument 'epoch'
"""A step called with a keyword argument it does not have (a typo: epoch vs epochs)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str, epochs: int = 5) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_typo(dataset_uri: str) -> Model:
    return train(dataset_uri, epoch=10)
