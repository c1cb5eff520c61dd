# expect-rule: used-before-assignment
# expect-line: 32
# expect-message: 'published' is used before it is assigned (at line 33)
"""after= naming a step that comes later would make a cycle (each waits for the other)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(data: str) -> Model:
    return Model(uri="s3://models/m")


@step
def announce(model: Model) -> None:
    pass


@step
def publish(model: Model) -> str:
    return model.uri


@workflow
def release(data: str) -> str:
    model = train(data)
    announce(model, after=[published])
    published = publish(model)
    return published
