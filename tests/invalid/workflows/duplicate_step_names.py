# expect-rule: duplicate-step-name
# expect-line: 27
# expect-message: two different steps are named 'load': duplicate_step_names:load_users (line 15) and duplicate_step_names:load_orders (line 20)
"""Two different functions given the same step name with @step(name=...)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Table(BaseModel):
    rows: int


@step(name="load")
def load_users(day: str) -> Table:
    return Table(rows=0)


@step(name="load")
def load_orders(day: str) -> Table:
    return Table(rows=0)


@workflow
def load_all(day: str) -> None:
    load_users(day)
    load_orders(day)
