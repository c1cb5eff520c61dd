# expect-rule: bad-except
# expect-line: 28
# expect-message: except Report: not an exception class
"""An except clause naming a pydantic model, not an exception class."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    passed: bool


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@step
def alert(uri: str) -> None:
    print(uri)


@workflow
def guarded_check(uri: str) -> None:
    try:
        check_quality(uri)
    except Report:
        alert(uri)
