# expect-rule: type-mismatch
# expect-line: 27
# expect-message: listing.count == '10' compares a numeric value with a string value
"""A numeric field compared with a string literal."""
from pydantic import BaseModel

from stepstone import step, workflow


class Listing(BaseModel):
    count: int


@step
def list_files(prefix: str) -> Listing:
    return Listing(count=0)


@step
def ingest(prefix: str) -> None:
    print(prefix)


@workflow
def ingest_ten(prefix: str) -> None:
    listing = list_files(prefix)
    if listing.count == "10":
        ingest(prefix)
