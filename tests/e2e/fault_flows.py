"""A workflow for the injected-fault tests (STEPSTONE_FAULTS, lambdas/faults.py): a retried
extract, an enrich call with a timeout and a fallback when it times out, a publish step
with no failure path of its own.

    stepstone run tests/e2e/fault_flows.py --fault enrich=timeout
"""

from __future__ import annotations

from pydantic import BaseModel

from stepstone import Retry, StepTimeout, TransientError, step, workflow


class Report(BaseModel):
    rows: int
    source: str


@step(retry=Retry(attempts=3, interval=1, backoff=2.0, on=[TransientError]))
def extract(n: int) -> Report:
    """Read n rows (a flaky database: transient errors are retried)."""
    return Report(rows=n, source="db")


@step(timeout=2)
def enrich(report: Report) -> Report:
    """Call a slow API; when it takes longer than 2 s the workflow uses the cached copy."""
    return Report(rows=report.rows * 2, source="api")


@step
def cached_copy(report: Report) -> Report:
    return Report(rows=report.rows, source="cache")


@step
def publish(report: Report) -> str:
    return f"{report.rows} rows from {report.source}"


@workflow
def enriched_report(n: int = 5) -> str:
    report = extract(n)
    try:
        enriched = enrich(report)
    except StepTimeout:
        enriched = cached_copy(report)
    return publish(enriched)
