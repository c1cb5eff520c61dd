# expect-rule: secret-parameter
# expect-line: 13
# expect-message: workflow 'publish_report' takes a parameter field 'request.dashboard.apiToken' that looks like a token; a run's parameters are kept in clear in its execution history, its run record and its schedules
"""An API token inside a nested model of the workflow's parameters (camelCase too)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dashboard(BaseModel):
    url: str
    max_tokens: int = 512  # a number of text tokens: no secret
    apiToken: str


class ReportRequest(BaseModel):
    day: str
    dashboard: Dashboard


@step
def publish(day: str) -> str:
    return day


@workflow
def publish_report(request: ReportRequest) -> str:
    return publish(request.day)
