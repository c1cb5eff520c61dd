# expect-rule: maybe-unassigned
# expect-line: 33
# expect-message: 'model' is assigned only on some paths of the if at line 31
"""A name assigned in one branch of an if only, then used after the if."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    passed: bool


class Model(BaseModel):
    uri: str


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@step
def train(uri: str) -> Model:
    return Model(uri="s3://models/m")


@workflow
def train_if_good(uri: str) -> Model:
    report = check_quality(uri)
    if report.passed:
        model = train(uri)
    return model
