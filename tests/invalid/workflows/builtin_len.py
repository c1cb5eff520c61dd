# expect-rule: not-a-step
# expect-line: 27
# expect-message: len(...) calls a built-in function; a workflow body can call only @step functions, other @workflow functions, approve(...) and stepstone.map(...)
"""len() of a step result's list passed as an argument."""
from pydantic import BaseModel

from stepstone import step, workflow


class Listing(BaseModel):
    files: list[str]


@step
def list_files(prefix: str) -> Listing:
    return Listing(files=[])


@step
def record_count(count: int) -> None:
    print(count)


@workflow
def count_files(prefix: str) -> None:
    listing = list_files(prefix)
    record_count(len(listing.files))
