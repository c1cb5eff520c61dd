# expect-rule: bad-raise
# expect-line: 23
# expect-message: raise 'data quality check failed': raise an exception class defined at module level
"""A raise of a string instead of an exception."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    passed: bool


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@workflow
def strict_check(uri: str) -> None:
    report = check_quality(uri)
    if not report.passed:
        raise "data quality check failed"
