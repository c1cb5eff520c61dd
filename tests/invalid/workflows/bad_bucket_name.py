# expect-rule: bad-trigger
# expect-line: 19
# expect-message: s3_upload bucket 'Raw_Data' is not a valid S3 bucket name
"""An s3_upload trigger on a bucket name S3 does not allow (upper case and '_')."""
from pydantic import BaseModel

from stepstone import s3_upload, step, workflow


class Table(BaseModel):
    rows: int


@step
def load_csv(bucket: str, key: str) -> Table:
    return Table(rows=0)


@workflow(triggers=[s3_upload("Raw_Data", prefix="incoming/", suffix=".csv")])
def load_upload(bucket: str, key: str) -> Table:
    return load_csv(bucket, key)
