# expect-rule: unsupported-expression
# expect-line: 33
# expect-message: error is a caught error; its parts cannot be read in the workflow body
"""An attribute of a caught error read in the workflow body."""
from pydantic import BaseModel

from stepstone import step, workflow


class DataError(Exception):
    pass


class Report(BaseModel):
    passed: bool


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@step
def alert(reason: str) -> None:
    print(reason)


@workflow
def guarded_check(uri: str) -> None:
    try:
        check_quality(uri)
    except DataError as error:
        alert(error.args)
