# expect-rule: bad-option
# expect-line: 14
# expect-message: Retry attempts must be a whole number from 1 to 100, got 0
"""Retry(attempts=0): attempts counts the first try too, so it must be at least 1."""
from pydantic import BaseModel

from stepstone import Retry, step, workflow


class Table(BaseModel):
    rows: int


@step(retry=Retry(attempts=0))
def load(day: str) -> Table:
    return Table(rows=0)


@workflow
def load_once(day: str) -> Table:
    return load(day)
