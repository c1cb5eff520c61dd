# expect-rule: wrong-argument-type
# expect-line: 21
# expect-message: train(): epochs='ten' does not fit epochs's type int: Input should be a valid integer, unable to parse string as an integer
"""A literal argument that does not fit the parameter's type ("ten" for an int)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str, epochs: int) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_words(dataset_uri: str) -> Model:
    return train(dataset_uri, epochs="ten")
