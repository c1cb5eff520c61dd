# expect-rule: bad-error-name
# expect-line: 8
# expect-message: Retry on: 'States.Timout' is not a Step Functions error name
"""A misspelled Step Functions error name in Retry(on=...): 'States.Timout' would never match."""
from stepstone import Retry, step, workflow


@step(timeout=60, retry=Retry(attempts=3, on=["States.Timout"]))
def download(uri: str) -> str:
    return uri


@workflow
def fetch(uri: str) -> str:
    return download(uri)
