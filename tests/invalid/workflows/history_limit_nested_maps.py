# expect-rule: history-limit
# expect-line: 26
# expect-message: a run of 'grid_search' can write up to 70,607 history events; Step Functions stops a run at 25,000
"""Inline fan-outs nested two deep (100 x 100 items): one run can pass 25,000 history events."""
from typing import Annotated

from pydantic import BaseModel, Field

from stepstone import step, workflow


class Score(BaseModel):
    auc: float


@step
def evaluate(learning_rate: float, depth: int) -> Score:
    return Score(auc=0.5)


@workflow
def grid_search(
    rates: Annotated[list[float], Field(max_length=100)],
    depths: Annotated[list[int], Field(max_length=100)],
) -> None:
    for rate in rates:
        for depth in depths:
            evaluate(rate, depth)
