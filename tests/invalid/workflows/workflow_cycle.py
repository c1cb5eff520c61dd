# expect-rule: cycle
# expect-line: 22
# expect-message: workflows start each other in a cycle: ingest -> reprocess -> ingest
"""Two workflows that start each other: runs would start for ever."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    uri: str


@step
def build_dataset(source: str) -> Dataset:
    return Dataset(uri=source)


@workflow
def ingest(source: str) -> Dataset:
    dataset = build_dataset(source)
    reprocess(source)
    return dataset


@workflow
def reprocess(source: str) -> Dataset:
    dataset = build_dataset(source)
    ingest(source)
    return dataset
