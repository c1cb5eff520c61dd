# expect-rule: bad-schedule
# expect-line: 19
# expect-message: cron expression '0 3 * * *' has 5 fields; it needs 6 (minutes hours day-of-month month day-of-week year)
"""A Unix-style five-field cron expression; EventBridge needs six fields."""
from pydantic import BaseModel

from stepstone import cron, step, workflow


class Report(BaseModel):
    rows: int


@step
def nightly_report(day: str) -> Report:
    return Report(rows=0)


@workflow(schedule=cron("0 3 * * *"))
def nightly(day: str = "today") -> Report:
    return nightly_report(day)
