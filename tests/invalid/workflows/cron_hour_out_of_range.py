# expect-rule: bad-schedule
# expect-line: 19
# expect-message: cron expression '0 24 * * ? *': hours: '24' is not in 0-23
"""A cron expression with hour 24: hours go from 0 to 23."""
from pydantic import BaseModel

from stepstone import cron, step, workflow


class Report(BaseModel):
    rows: int


@step
def nightly_report(day: str) -> Report:
    return Report(rows=0)


@workflow(schedule=cron("0 24 * * ? *"))
def midnight(day: str = "today") -> Report:
    return nightly_report(day)
