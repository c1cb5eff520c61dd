# expect-rule: unsupported-expression
# expect-line: 31
# expect-message: arithmetic (config.epochs * 2) on workflow values is not supported in argument epochs= of train
"""Arithmetic on a step result passed as an argument: the body does no arithmetic."""
from pydantic import BaseModel

from stepstone import step, workflow


class Config(BaseModel):
    epochs: int


class Model(BaseModel):
    uri: str


@step
def load_config(name: str) -> Config:
    return Config(epochs=10)


@step
def train(epochs: int) -> Model:
    return Model(uri="s3://models/m")


@workflow
def double_epochs(name: str) -> Model:
    config = load_config(name)
    return train(epochs=config.epochs * 2)
