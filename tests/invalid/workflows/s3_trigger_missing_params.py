# expect-rule: trigger-params
# expect-line: 19
# expect-message: s3_upload passes the object's bucket and key to parameter(s) 'bucket', 'key', which 'load_upload' does not have
"""An s3_upload trigger on a workflow that has no `bucket`/`key` parameters to receive the object."""
from pydantic import BaseModel

from stepstone import s3_upload, step, workflow


class Table(BaseModel):
    rows: int


@step
def load_csv(path: str) -> Table:
    return Table(rows=0)


@workflow(triggers=[s3_upload("raw-data", prefix="incoming/", suffix=".csv")])
def load_upload(path: str) -> Table:
    return load_csv(path)
