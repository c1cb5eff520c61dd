# expect-rule: bad-option
# expect-line: 14
# expect-message: step timeout=600s is longer than its Lambda function's timeout of 300s, which would stop it first
"""A step timeout longer than the timeout of the Lambda function it asks for."""
from pydantic import BaseModel

from stepstone import Lambda, step, workflow


class Table(BaseModel):
    rows: int


@step(compute=Lambda(timeout=300), timeout=600)
def load(day: str) -> Table:
    return Table(rows=0)


@workflow
def load_slowly(day: str) -> Table:
    return load(day)
