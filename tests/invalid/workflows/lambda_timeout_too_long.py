# expect-rule: lambda-timeout
# expect-line: 14
# expect-message: Lambda(timeout=1800) is longer than Lambda's limit of 900 seconds
"""A Lambda step with a 30-minute timeout: Lambda stops every function at 15 minutes."""
from pydantic import BaseModel

from stepstone import Lambda, step, workflow


class Dataset(BaseModel):
    uri: str


@step(compute=Lambda(memory=2048, timeout=1800))
def build_dataset(source: str) -> Dataset:
    return Dataset(uri=source)


@workflow
def slow_build(source: str) -> Dataset:
    return build_dataset(source)
