# expect-rule: bad-fan-out
# expect-line: 27
# expect-message: listing is a Listing, not a list, so it cannot be fanned out over
"""A for loop over a step result that is a model, not a list."""
from pydantic import BaseModel

from stepstone import step, workflow


class Listing(BaseModel):
    files: list[str]


@step
def list_files(prefix: str) -> Listing:
    return Listing(files=[])


@step
def ingest(path: str) -> None:
    print(path)


@workflow
def ingest_all(prefix: str) -> None:
    listing = list_files(prefix)
    for path in listing:
        ingest(path)
