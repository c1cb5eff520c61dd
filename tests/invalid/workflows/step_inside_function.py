# expect-rule: bad-step
# expect-line: 15
# expect-message: step 'make_loader.<locals>.load' is defined inside another function
"""A @step defined inside another function: the step runner cannot import it."""
from pydantic import BaseModel

from stepstone import step, workflow


class Table(BaseModel):
    rows: int


def make_loader():
    @step
    def load(day: str) -> Table:
        return Table(rows=0)

    return load


load = make_loader()


@workflow
def load_day(day: str) -> Table:
    return load(day)
