# expect-rule: unreachable
# expect-line: 28
# expect-message: this line never runs: every path before it ends with return or raise
"""A step call after a return: it can never run."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(uri: str) -> Model:
    return Model(uri="s3://models/m")


@step
def notify(message: str) -> None:
    print(message)


@workflow
def train_then_notify(uri: str) -> Model:
    model = train(uri)
    return model
    notify("trained")
