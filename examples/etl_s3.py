"""An ETL run for every CSV file that lands under ``s3://raw-data/sales/``.

It shows:

- an ``s3_upload`` trigger: each new object starts a run with its ``bucket`` and ``key``
  as the workflow's parameters (their defaults name a sample file, for running locally);
- ``raise EmptyFileError("...")`` in the workflow body: the run fails on purpose, and says why;
- ``try/except`` as a failure path: a file that cannot be parsed raises
  ``MalformedFileError`` (a ``PermanentError``, so it is never retried) and is moved to a
  quarantine prefix instead of failing the run;
- retries of transient failures only, with backoff and jitter, for the S3 read and the
  warehouse load (which is idempotent: keyed by the file, so a retry cannot load twice);
- an Express workflow: short, high-volume, billed by duration.

Run it in-process (no AWS needed):  python -m examples.etl_s3
"""

import csv
import io
import os
from datetime import date

from pydantic import BaseModel, ValidationError

from stepstone import Lambda, PermanentError, Retry, TransientError, s3_upload, step, workflow

# What the sample keys hold when the example runs in-process (deployed, `download` reads S3).
SAMPLE_OBJECTS = {
    ("raw-data", "sales/2024-06-01.csv"): (
        "order_id,day,store,amount_eur\n"
        "1001,2024-06-01,berlin,19.90\n"
        "1002,2024-06-01,berlin,5.00\n"
        "1003,2024-06-01,hamburg,n/a\n"
        "1004,2024-06-01,munich,120.50\n"
        "1005,2024-06-01,hamburg,42.00\n"
    ),
    ("raw-data", "sales/broken.csv"): "order_id;day;store\n1001;2024-06-01\n",
    ("raw-data", "sales/empty.csv"): "order_id,day,store,amount_eur\n",
}
EXPECTED_COLUMNS = ["order_id", "day", "store", "amount_eur"]


class MalformedFileError(PermanentError):
    """The file is not the CSV we expect; retrying cannot fix it."""


class EmptyFileError(PermanentError):
    """The file parsed but held no sales: fail the run so the on-call alarm fires."""


class WarehouseBusyError(TransientError):
    """The warehouse is throttling writes; try again shortly."""


class StorageBusyError(TransientError):
    """S3 did not answer, or asked us to slow down; try again shortly."""


class RawFile(BaseModel):
    bucket: str
    key: str
    text: str


class Table(BaseModel):
    key: str
    rows: list[dict[str, str]]


class Sale(BaseModel):
    order_id: int
    day: date
    store: str
    amount_eur: float


class CleanBatch(BaseModel):
    key: str
    sales: list[Sale]
    rejected: list[str]  # why each rejected row was dropped


class LoadSummary(BaseModel):
    table: str
    loaded_rows: int
    rejected_rows: int
    revenue_eur: float


@step(retry=Retry(attempts=3, interval=1, backoff=2.0, jitter=True, on=[TransientError]), timeout=20)
def download(bucket: str, key: str) -> RawFile:
    """The object's text: from S3 where the step runs as a Lambda function (AWS, LocalStack),
    from SAMPLE_OBJECTS in-process."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return RawFile(bucket=bucket, key=key, text=_read_s3(bucket, key))
    text = SAMPLE_OBJECTS.get((bucket, key))
    if text is None:
        raise FileNotFoundError(f"s3://{bucket}/{key} does not exist")
    return RawFile(bucket=bucket, key=key, text=text)


def _read_s3(bucket: str, key: str) -> str:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        body: bytes = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            raise FileNotFoundError(f"s3://{bucket}/{key} does not exist") from None
        if code in ("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"):
            raise StorageBusyError(f"s3://{bucket}/{key}: {code}") from exc
        raise
    except BotoCoreError as exc:  # the connection: worth another try
        raise StorageBusyError(f"s3://{bucket}/{key}: {exc}") from exc
    return body.decode("utf-8")


@step(timeout=20)
def parse_csv(raw: RawFile) -> Table:
    """Rows as dicts, after checking the header and that every row has every column."""
    reader = csv.reader(io.StringIO(raw.text))
    header = next(reader, [])
    if header != EXPECTED_COLUMNS:
        raise MalformedFileError(f"{raw.key}: header {header} is not {EXPECTED_COLUMNS}")
    rows = []
    for line_number, values in enumerate(reader, start=2):
        if len(values) != len(header):
            raise MalformedFileError(f"{raw.key}:{line_number}: {len(values)} columns, expected {len(header)}")
        rows.append(dict(zip(header, values)))
    return Table(key=raw.key, rows=rows)


@step(timeout=20)
def clean_rows(table: Table) -> CleanBatch:
    """Typed sales; a row with a bad value is dropped, but a file where most rows are bad is malformed."""
    sales, rejected = [], []
    for row in table.rows:
        try:
            sales.append(Sale.model_validate(row))
        except ValidationError as exc:
            rejected.append(f"order {row['order_id']}: {exc.errors()[0]['msg']}")
    if len(rejected) > len(table.rows) / 2:
        raise MalformedFileError(f"{table.key}: {len(rejected)} of {len(table.rows)} rows are invalid")
    return CleanBatch(key=table.key, sales=sales, rejected=rejected)


@step(compute=Lambda(memory=512, timeout=30),
      retry=Retry(attempts=3, interval=2, backoff=2.0, jitter=True, on=[WarehouseBusyError]))
def load_to_warehouse(batch: CleanBatch) -> LoadSummary:
    """Upsert the day's sales (keyed by the source file, so a retried load replaces instead of duplicating)."""
    return LoadSummary(table="analytics.daily_sales", loaded_rows=len(batch.sales), rejected_rows=len(batch.rejected),
                       revenue_eur=round(sum(sale.amount_eur for sale in batch.sales), 2))


@step(retry=Retry(attempts=2, on=[TransientError]), timeout=20)
def quarantine(bucket: str, key: str, error: Exception) -> str:
    """Move the file aside (copy + delete in production) and say why; returns where it went."""
    target = f"s3://{bucket}/quarantine/{key}"
    print(f"[etl] quarantined s3://{bucket}/{key} -> {target}: {error}")
    return target


@step(timeout=20)
def report_rejects(summary: LoadSummary) -> str:
    message = f"[#data-quality] {summary.rejected_rows} row(s) rejected while loading {summary.table}"
    print(message)
    return message


@workflow(type="express", timeout=300,
          triggers=[s3_upload(bucket="raw-data", prefix="sales/", suffix=".csv")])
def etl_s3(bucket: str = "raw-data", key: str = "sales/2024-06-01.csv") -> str:
    raw = download(bucket, key)
    try:
        table = parse_csv(raw)
        batch = clean_rows(table)
    except MalformedFileError as error:
        quarantine(bucket, key, error)
        return "quarantined"
    summary = load_to_warehouse(batch)
    if summary.loaded_rows == 0:
        raise EmptyFileError("the file has a header but no valid sales")
    if summary.rejected_rows > 0:
        report_rejects(summary)
    return summary.table


if __name__ == "__main__":
    print(etl_s3())
