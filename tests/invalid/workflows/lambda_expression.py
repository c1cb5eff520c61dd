# expect-rule: unsupported-expression
# expect-line: 21
# expect-message: lambda functions cannot run inside a workflow
"""A lambda expression passed to a step: functions cannot travel between states."""
from pydantic import BaseModel

from stepstone import step, workflow


class Table(BaseModel):
    rows: int


@step
def transform(uri: str, fn: object) -> Table:
    return Table(rows=0)


@workflow
def transform_upper(uri: str) -> Table:
    return transform(uri, lambda row: row.upper())
