# expect-rule: truthiness
# expect-line: 27
# expect-message: if listing.count: listing.count is a number, not a boolean
"""A number used as a truth value in an if: Step Functions has no truthiness."""
from pydantic import BaseModel

from stepstone import step, workflow


class Listing(BaseModel):
    count: int


@step
def list_new_files(prefix: str) -> Listing:
    return Listing(count=0)


@step
def ingest(prefix: str) -> None:
    print(prefix)


@workflow
def ingest_if_new(prefix: str) -> None:
    listing = list_new_files(prefix)
    if listing.count:
        ingest(prefix)
