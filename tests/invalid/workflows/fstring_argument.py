# expect-rule: unsupported-expression
# expect-line: 27
# expect-message: f-strings are not supported in argument message= of notify
"""An f-string built from a step result and passed to a step."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    rows: int


@step
def build_dataset(source: str) -> Dataset:
    return Dataset(rows=100)


@step
def notify(message: str) -> None:
    print(message)


@workflow
def build_and_notify(source: str) -> None:
    dataset = build_dataset(source)
    notify(message=f"built {dataset.rows} rows")
