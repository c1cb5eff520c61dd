# expect-rule: bad-option
# expect-line: 14
# expect-message: heartbeat=3600s must be shorter than the step's timeout of 3600s
"""A heartbeat as long as the step's timeout: it could never fire before the timeout."""
from pydantic import BaseModel

from stepstone import Batch, step, workflow


class Model(BaseModel):
    uri: str


@step(compute=Batch(gpus=1), timeout=3600, heartbeat=3600)
def train(dataset_uri: str) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_with_heartbeat(dataset_uri: str) -> None:
    train(dataset_uri)
