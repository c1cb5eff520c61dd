# expect-rule: unsupported-expression
# expect-line: 27
# expect-message: conditional expressions (a if c else b) are not supported
"""A conditional expression (a if c else b) choosing an argument."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    passed: bool


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@step
def notify(channel: str) -> None:
    print(channel)


@workflow
def notify_someone(uri: str) -> None:
    report = check_quality(uri)
    notify("#ml" if report.passed else "#data")
