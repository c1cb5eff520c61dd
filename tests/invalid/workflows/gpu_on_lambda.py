# expect-rule: gpu-on-lambda
# expect-line: 14
# expect-message: Lambda(gpus=1): Lambda functions have no GPUs
"""A GPU asked of a Lambda step: Lambda functions have no GPUs."""
from pydantic import BaseModel

from stepstone import Lambda, step, workflow


class Model(BaseModel):
    uri: str


@step(compute=Lambda(memory=4096, gpus=1))
def train(dataset_uri: str) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_on_lambda(dataset_uri: str) -> Model:
    return train(dataset_uri)
