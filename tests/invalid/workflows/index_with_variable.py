# expect-rule: unsupported-expression
# expect-line: 27
# expect-message: listing.files[position]: only a constant index or key can be used here
"""A list indexed with a parameter: only a constant index can be used in the body."""
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
def ingest_one(prefix: str, position: int) -> None:
    listing = list_files(prefix)
    ingest(listing.files[position])
