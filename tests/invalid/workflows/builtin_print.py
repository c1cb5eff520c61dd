# expect-rule: not-a-step
# expect-line: 22
# expect-message: print(...) calls a built-in function; a workflow body can call only @step functions, other @workflow functions, approve(...) and stepstone.map(...)
"""A call to print() in the workflow body: only steps run in a deployed workflow."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    rows: int


@step
def build_dataset(source: str) -> Dataset:
    return Dataset(rows=100)


@workflow
def build_verbose(source: str) -> Dataset:
    dataset = build_dataset(source)
    print(dataset.rows)
    return dataset
