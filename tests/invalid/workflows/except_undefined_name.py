# expect-rule: undefined-name
# expect-line: 32
# expect-message: 'DataErorr' is not defined (did you mean 'DataError'?)
"""An except clause with a misspelled exception class name."""
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
def alert(uri: str) -> None:
    print(uri)


@workflow
def guarded(uri: str) -> None:
    try:
        check_quality(uri)
    except DataErorr:
        alert(uri)
