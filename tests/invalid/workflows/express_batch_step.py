# expect-rule: express
# expect-line: 21
# expect-message: train runs on AWS Batch, which an Express workflow cannot wait for (.sync)
"""An Express workflow that runs a Batch step: Express cannot wait for a Batch job (.sync)."""
from pydantic import BaseModel

from stepstone import Batch, step, workflow


class Model(BaseModel):
    uri: str


@step(compute=Batch(gpus=1, vcpus=8, memory=32768))
def train(dataset_uri: str) -> Model:
    return Model(uri="s3://models/m")


@workflow(type="express")
def quick_train(dataset_uri: str) -> None:
    train(dataset_uri)
