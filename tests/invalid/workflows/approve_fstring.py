# expect-rule: bad-approve
# expect-line: 27
# expect-message: approve() takes the question as one literal string: approve("Release the model?")
"""approve() with an f-string question built from a step result."""
from pydantic import BaseModel

from stepstone import approve, step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str) -> Model:
    return Model(uri="s3://models/m")


@step
def release(model: Model) -> None:
    print(model)


@workflow
def gated_release(dataset_uri: str) -> None:
    model = train(dataset_uri)
    answer = approve(f"Release {model.uri}?")
    if answer.approved:
        release(model)
