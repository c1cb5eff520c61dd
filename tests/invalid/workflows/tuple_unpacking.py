# expect-rule: unsupported-statement
# expect-line: 27
# expect-message: unpacking (a, b = ...) is not supported
"""Tuple unpacking of a step result."""
from pydantic import BaseModel

from stepstone import step, workflow


class Split(BaseModel):
    train_uri: str
    test_uri: str


@step
def split(uri: str) -> Split:
    return Split(train_uri=uri, test_uri=uri)


@step
def train(train_uri: str, test_uri: str) -> str:
    return "s3://models/m"


@workflow
def split_and_train(uri: str) -> str:
    train_uri, test_uri = split(uri)
    return train(train_uri, test_uri)
