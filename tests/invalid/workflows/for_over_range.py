# expect-rule: not-a-step
# expect-line: 21
# expect-message: range(...) calls a built-in class; a workflow body can call only @step functions, other @workflow functions, approve(...) and stepstone.map(...)
"""A for loop over range(n): a fan-out goes over a list, and range() is not a step."""
from pydantic import BaseModel

from stepstone import step, workflow


class Shard(BaseModel):
    uri: str


@step
def process_shard(index: int) -> Shard:
    return Shard(uri=f"s3://data/{index}")


@workflow
def process_shards(count: int) -> None:
    for index in range(count):
        process_shard(index)
