# expect-rule: bad-timezone
# expect-line: 19
# expect-message: unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)
"""A schedule in a time zone that does not exist (a city name, not an IANA zone)."""
from pydantic import BaseModel

from stepstone import cron, step, workflow


class Report(BaseModel):
    rows: int


@step
def nightly_report(day: str) -> Report:
    return Report(rows=0)


@workflow(schedule=cron("0 3 * * ? *", timezone="Europe/Berln"))
def nightly_berlin(day: str = "today") -> Report:
    return nightly_report(day)
