# expect-rule: truthiness
# expect-line: 27
# expect-message: if report: report is a Report, not a boolean
"""A whole step result (a model) used as an if test instead of one of its fields."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    passed: bool


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@step
def train(uri: str) -> None:
    print(uri)


@workflow
def train_if_report(uri: str) -> None:
    report = check_quality(uri)
    if report:
        train(uri)
