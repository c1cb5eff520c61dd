# expect-rule: bad-schedule
# expect-line: 19
# expect-message: cron expression '0 3 * * MON *': exactly one of day-of-month and day-of-week must be '?'
"""A cron expression that sets both day-of-month and day-of-week; one must be '?'."""
from pydantic import BaseModel

from stepstone import cron, step, workflow


class Report(BaseModel):
    rows: int


@step
def weekly_report(day: str) -> Report:
    return Report(rows=0)


@workflow(schedule=cron("0 3 * * MON *"))
def weekly(day: str = "today") -> Report:
    return weekly_report(day)
