# expect-rule: foreign-value
# expect-line: 25
# expect-message: 'CUTOFF' is a module-level datetime, not a value this workflow made; a workflow can use only its parameters, the results of the steps it calls, and literal constants
"""A module-level datetime (not JSON, and fixed at import time) used in the workflow body."""
from datetime import datetime

from pydantic import BaseModel

from stepstone import step, workflow

CUTOFF = datetime(2024, 1, 1)


class Dataset(BaseModel):
    uri: str


@step
def build_dataset(since: datetime) -> Dataset:
    return Dataset(uri="s3://data/d")


@workflow
def build_since_cutoff() -> Dataset:
    return build_dataset(CUTOFF)
