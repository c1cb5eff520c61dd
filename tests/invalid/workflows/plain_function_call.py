# expect-rule: not-a-step
# expect-line: 25
# expect-message: clean(...) calls a plain function (not a @step); a workflow body can call only @step functions, other @workflow functions, approve(...) and stepstone.map(...)
"""A call to a plain Python function that is not a @step."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    uri: str


def clean(uri: str) -> str:
    return uri.strip()


@step
def build_dataset(uri: str) -> Dataset:
    return Dataset(uri=uri)


@workflow
def clean_and_build(uri: str) -> Dataset:
    cleaned = clean(uri)
    return build_dataset(cleaned)
