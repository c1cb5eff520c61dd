# expect-rule: bad-parameters
# expect-line: 20
# expect-message: workflow parameter '_debug' starts with '_', which stepstone keeps for its own state
"""A workflow parameter whose name starts with '_'."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    rows: int


@step
def build_report(day: str) -> Report:
    return Report(rows=0)


@workflow
def daily_report(day: str, _debug: bool = False) -> Report:
    return build_report(day)
