# expect-rule: call-in-condition
# expect-line: 26
# expect-message: a call (check_quality(uri)) inside an if test is not supported
"""A step called inside an if test."""
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
def train_if_checked(uri: str) -> None:
    if check_quality(uri).passed:
        train(uri)
