# expect-rule: secret-literal
# expect-line: 21
# expect-message: a value written here looks like an AWS access key id; the workflow's literals are part of the state machine's definition, in clear
"""An AWS access key id (AWS's documented example) passed to a step as a literal."""
from pydantic import BaseModel

from stepstone import step, workflow


class Listing(BaseModel):
    keys: list[str]


@step
def list_bucket(bucket: str, access_key_id: str) -> Listing:
    return Listing(keys=[])


@workflow
def inventory(bucket: str = "raw-data") -> Listing:
    return list_bucket(bucket, "AKIAIOSFODNN7EXAMPLE")
