# expect-rule: history-limit
# expect-line: 35
# expect-message: a run of 'reindex' can write up to 30,507 history events; Step Functions stops a run at 25,000
"""A 100-item inline fan-out of three heavily retried steps: a run can pass 25,000 history events."""
from typing import Annotated

from pydantic import BaseModel, Field

from stepstone import Retry, step, workflow

FLAKY = Retry(attempts=25, interval=1)


class Shard(BaseModel):
    uri: str


@step(retry=FLAKY)
def download(uri: str) -> Shard:
    return Shard(uri=uri)


@step(retry=FLAKY)
def clean(shard: Shard) -> Shard:
    return shard


@step(retry=FLAKY)
def index(shard: Shard) -> Shard:
    return shard


@workflow
def reindex(uris: Annotated[list[str], Field(max_length=100)]) -> None:
    for uri in uris:
        index(clean(download(uri)))
