# expect-rule: unsupported-statement
# expect-line: 29
# expect-message: finally blocks are not supported
"""A try/finally block: Step Functions has no finally."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str) -> Model:
    return Model(uri="s3://models/m")


@step
def cleanup(dataset_uri: str) -> None:
    print(dataset_uri)


@workflow
def train_and_clean(dataset_uri: str) -> None:
    try:
        train(dataset_uri)
    finally:
        cleanup(dataset_uri)
