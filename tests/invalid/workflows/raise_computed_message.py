# expect-rule: bad-raise
# expect-line: 28
# expect-message: the error's message must be one literal string
"""A raise whose message is computed (an f-string) from a step result."""
from pydantic import BaseModel

from stepstone import step, workflow


class DataError(Exception):
    pass


class Report(BaseModel):
    passed: bool
    bad_rows: int


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True, bad_rows=0)


@workflow
def strict_check(uri: str) -> None:
    report = check_quality(uri)
    if not report.passed:
        raise DataError(f"{report.bad_rows} bad rows")
