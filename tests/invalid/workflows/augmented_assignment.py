# expect-rule: unsupported-statement
# expect-line: 21
# expect-message: augmented assignment (+=, ...) is not supported: the body does no arithmetic
"""An augmented assignment (x += 1) in the workflow body."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str, epochs: int) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_longer(dataset_uri: str, epochs: int) -> Model:
    epochs += 5
    return train(dataset_uri, epochs)
