# expect-rule: return-in-loop
# expect-line: 23
# expect-message: return inside a fan-out loop is not supported: each item's path ends at the loop's end
"""A return inside a fan-out for loop."""
from pydantic import BaseModel

from stepstone import step, workflow


class Score(BaseModel):
    auc: float


@step
def evaluate(params: str) -> Score:
    return Score(auc=0.5)


@workflow
def first_score(grid: list[str]) -> Score:
    for params in grid:
        score = evaluate(params)
        return score
