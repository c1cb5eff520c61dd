# expect-rule: not-a-step
# expect-line: 27
# expect-message: report.model_dump_json(...) calls a method; a workflow body can call only steps
"""A method called on a step result (pydantic's model_dump_json) in the workflow body."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    passed: bool


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@step
def upload(text: str) -> None:
    print(text)


@workflow
def report_quality(uri: str) -> None:
    report = check_quality(uri)
    upload(report.model_dump_json())
