# expect-rule: unsupported-condition
# expect-line: 27
# expect-message: 'is' can only test for None here
"""`is` used to compare a field with a string: only `is None` can be tested."""
from pydantic import BaseModel

from stepstone import step, workflow


class Job(BaseModel):
    status: str


@step
def run_job(name: str) -> Job:
    return Job(status="ok")


@step
def alert(name: str) -> None:
    print(name)


@workflow
def job_with_alert(name: str) -> None:
    job = run_job(name)
    if job.status is "failed":
        alert(name)
