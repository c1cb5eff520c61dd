# expect-rule: secret-literal
# expect-line: 13
# expect-message: the params of the schedule cron(0 6 * * ? *) hold what looks like an AWS access key id; a schedule's input is stored in clear
"""A schedule that starts each run with an AWS access key id in its input."""
from stepstone import cron, step, workflow


@step
def sync(source: str, account: str) -> str:
    return source


@workflow(schedule=cron("0 6 * * ? *", params={"source": "s3://partner/exports/",
                                               "account": "AKIAIOSFODNN7EXAMPLE"}))
def partner_sync(source: str, account: str) -> str:
    return sync(source, account)
