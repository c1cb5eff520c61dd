# expect-rule: bad-option
# expect-line: 14
# expect-message: step timeout=600s is longer than its Lambda function's timeout of 300s, which would stop it first
"""A step timeout longer than its Lambda function's own timeout (300 s by default)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Table(BaseModel):
    rows: int


@step(timeout=600)
def load(day: str) -> Table:
    return Table(rows=0)


@workflow
def load_slowly(day: str) -> Table:
    return load(day)
