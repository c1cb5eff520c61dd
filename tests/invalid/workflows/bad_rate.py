# expect-rule: bad-schedule
# expect-line: 19
# expect-message: rate() unit must be minutes, hours or days, got 'week'
"""A rate schedule in weeks: EventBridge rates take minutes, hours or days."""
from pydantic import BaseModel

from stepstone import rate, step, workflow


class Report(BaseModel):
    rows: int


@step
def weekly_report(day: str) -> Report:
    return Report(rows=0)


@workflow(schedule=rate(1, "week"))
def weekly_rate(day: str = "today") -> Report:
    return weekly_report(day)
