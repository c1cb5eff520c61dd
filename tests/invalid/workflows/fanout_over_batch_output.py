# expect-rule: bad-fan-out
# expect-line: 27
# expect-message: checkpoints.uris is an AWS Batch step's output, which Step Functions cannot read to fan out over
"""A for loop over a list returned by a Batch step: Step Functions never sees Batch outputs."""
from pydantic import BaseModel

from stepstone import Batch, step, workflow


class Checkpoints(BaseModel):
    uris: list[str]


@step(compute=Batch(gpus=1))
def train(dataset_uri: str) -> Checkpoints:
    return Checkpoints(uris=[])


@step
def evaluate(checkpoint_uri: str) -> None:
    print(checkpoint_uri)


@workflow
def evaluate_checkpoints(dataset_uri: str) -> None:
    checkpoints = train(dataset_uri)
    for uri in checkpoints.uris:
        evaluate(uri)
