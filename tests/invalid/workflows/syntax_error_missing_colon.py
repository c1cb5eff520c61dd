# expect-rule: syntax-error
# expect-line: 9
# expect-message: syntax error: expected ':'
"""A workflow file that is not valid Python: the def line has no colon."""
from stepstone import step, workflow


@step
def train(dataset_uri: str) -> str
    return "s3://models/m"


@workflow
def training(dataset_uri: str) -> str:
    return train(dataset_uri)
