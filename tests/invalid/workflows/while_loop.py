# expect-rule: unsupported-statement
# expect-line: 22
# expect-message: while loops are not supported
"""A while loop in a workflow body: Step Functions states cannot loop on a Python condition."""
from pydantic import BaseModel

from stepstone import step, workflow


class Batch(BaseModel):
    remaining: int


@step
def process_next(queue: str) -> Batch:
    return Batch(remaining=0)


@workflow
def drain_queue(queue: str) -> int:
    batch = process_next(queue)
    while batch.remaining > 0:
        batch = process_next(queue)
    return batch.remaining
