# expect-rule: unsupported-expression
# expect-line: 28
# expect-message: [small, large]: lists and dicts in a workflow may hold only literal values
"""A list literal built from step results passed to a step."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(kind: str) -> Model:
    return Model(uri="s3://models/" + kind)


@step
def compare(models: list[Model]) -> Model:
    return models[0]


@workflow
def train_two(dataset_uri: str) -> Model:
    small = train("small")
    large = train("large")
    return compare([small, large])
