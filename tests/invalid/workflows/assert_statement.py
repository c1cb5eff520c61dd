# expect-rule: unsupported-statement
# expect-line: 27
# expect-message: assert is not supported in a workflow body
"""An assert on a step result in the workflow body."""
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
def train_asserted(uri: str) -> None:
    report = check_quality(uri)
    assert report.passed
    train(uri)
