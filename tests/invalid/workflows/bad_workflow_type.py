# expect-rule: bad-option
# expect-line: 19
# expect-message: workflow type='fast' must be 'standard' or 'express'
"""An unknown workflow type: Step Functions has Standard and Express workflows only."""
from pydantic import BaseModel

from stepstone import step, workflow


class Table(BaseModel):
    rows: int


@step
def load(day: str) -> Table:
    return Table(rows=0)


@workflow(type="fast")
def load_fast(day: str) -> Table:
    return load(day)
