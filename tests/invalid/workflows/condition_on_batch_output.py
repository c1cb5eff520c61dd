# expect-rule: condition-on-batch-output
# expect-line: 28
# expect-message: model.auc comes from an AWS Batch step, whose output Step Functions never sees, so a condition cannot test it
"""An if on a field of a Batch step's result: Step Functions never sees Batch outputs."""
from pydantic import BaseModel

from stepstone import Batch, step, workflow


class Model(BaseModel):
    uri: str
    auc: float


@step(compute=Batch(gpus=1))
def train(dataset_uri: str) -> Model:
    return Model(uri="s3://models/m", auc=0.9)


@step
def release(model: Model) -> None:
    print(model)


@workflow
def train_and_release(dataset_uri: str) -> None:
    model = train(dataset_uri)
    if model.auc > 0.8:
        release(model)
