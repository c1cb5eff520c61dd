# expect-rule: conflicting-storage
# expect-line: 28
# expect-message: shards is needed both in the state (an inline fan-out reads the list from the state) and in S3 (build_index runs on AWS Batch, which takes inputs by S3 reference)
"""One step result fanned out inline (read from the run's state) and passed to a Batch job (read from S3)."""
import stepstone
from stepstone import Batch, step, workflow


@step
def split(dataset_uri: str) -> list[str]:
    return [dataset_uri]


@step
def clean(shard_uri: str) -> str:
    return shard_uri


@step(compute=Batch(vcpus=4, memory=16384))
def build_index(shard_uris: list[str]) -> str:
    return "s3://indexes/i"


@workflow
def reindex(dataset_uri: str) -> None:
    shards = split(dataset_uri)
    stepstone.map(clean, shards, max_items=20)
    build_index(shards)
