# expect-rule: bad-name
# expect-line: 14
# expect-message: step name 'build dataset' must start with a letter and use only letters, digits, '_' and '-' (at most 64 characters)
"""A step name with a space in it: state and function names cannot have spaces."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    uri: str


@step(name="build dataset")
def build_dataset(source: str) -> Dataset:
    return Dataset(uri=source)


@workflow
def build(source: str) -> Dataset:
    return build_dataset(source)
