# expect-rule: express
# expect-line: 27
# expect-message: load_day: an Express workflow cannot wait for another workflow (.sync)
"""An Express workflow that starts another workflow and waits for it (.sync)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Table(BaseModel):
    rows: int


@step
def load(day: str) -> Table:
    return Table(rows=0)


@workflow
def load_day(day: str) -> Table:
    return load(day)


@workflow(type="express")
def load_today(day: str) -> None:
    load(day)
    load_day(day)
