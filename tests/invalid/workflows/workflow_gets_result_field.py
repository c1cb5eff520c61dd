# expect-rule: workflow-argument
# expect-line: 39
# expect-message: scores(): table is a DataFrame, which a workflow takes whole from a step's result
"""A field of a step result passed to a nested workflow's parameter that only a step result
fills (a DataFrame): the child reads its caller's envelope, so it takes the result whole."""
from dataclasses import dataclass

import pandas as pd

from stepstone import step, workflow


@dataclass
class Report:
    table: pd.DataFrame
    passed: bool


@step
def build(rows: int) -> Report:
    return Report(table=pd.DataFrame({"x": range(rows)}), passed=True)


@step
def total(table: pd.DataFrame) -> int:
    return int(table["x"].sum())


@workflow
def scores(table: pd.DataFrame) -> int:
    return total(table)


@workflow
def pipeline(rows: int = 3) -> int:
    report = build(rows)
    if not report.passed:
        return 0
    return scores(report.table)
