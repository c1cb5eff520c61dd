# expect-rule: wrong-argument-type
# expect-line: 31
# expect-message: train(): dataset takes a Dataset, but report is a Report
"""A step result of one model class passed where a step takes another."""
from pydantic import BaseModel

from stepstone import step, workflow


class Dataset(BaseModel):
    uri: str


class Report(BaseModel):
    passed: bool


@step
def check_quality(uri: str) -> Report:
    return Report(passed=True)


@step
def train(dataset: Dataset) -> str:
    return "s3://models/m"


@workflow
def train_on_report(uri: str) -> str:
    report = check_quality(uri)
    return train(report)
