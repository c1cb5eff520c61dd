# expect-rule: unsupported-expression
# expect-line: 21
# expect-message: arithmetic ('s3://' + bucket + '/' + day) on workflow values is not supported in an argument of load
"""A path built with + from a parameter: string concatenation is arithmetic too."""
from pydantic import BaseModel

from stepstone import step, workflow


class Table(BaseModel):
    rows: int


@step
def load(uri: str) -> Table:
    return Table(rows=0)


@workflow
def load_day(bucket: str, day: str) -> Table:
    return load("s3://" + bucket + "/" + day)
