# expect-rule: bad-secret-name
# expect-line: 8
# expect-message: Secret('/ml/api token', store='ssm'): a Parameter Store name is at most 1,011 of letters, digits and '_.-/'
"""A Parameter Store name with a space, which Parameter Store does not allow."""
from stepstone import Secret, step, workflow


API_TOKEN = Secret("/ml/api token", store="ssm")


@step(secrets=[API_TOKEN])
def post(day: str) -> str:
    return day


@workflow
def push_metrics(day: str = "2024-06-02") -> str:
    return post(day)
