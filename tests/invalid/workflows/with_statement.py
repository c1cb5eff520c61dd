# expect-rule: unsupported-statement
# expect-line: 21
# expect-message: with blocks are not supported in a workflow body
"""A with block in a workflow body: resources must be opened inside a step."""
from pydantic import BaseModel

from stepstone import step, workflow


class Rows(BaseModel):
    count: int


@step
def load_rows(path: str) -> Rows:
    return Rows(count=1)


@workflow
def import_csv(path: str) -> int:
    with open(path) as handle:
        rows = load_rows(handle)
    return rows.count
