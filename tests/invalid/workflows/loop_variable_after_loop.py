# expect-rule: maybe-unassigned
# expect-line: 28
# expect-message: 'score' is assigned inside the fan-out at line 26; each item has its own value
"""A variable assigned inside a for loop body, used after the loop."""
from pydantic import BaseModel

from stepstone import step, workflow


class Score(BaseModel):
    auc: float


@step
def evaluate(params: str) -> Score:
    return Score(auc=0.5)


@step
def publish(score: Score) -> None:
    print(score)


@workflow
def grid_search(grid: list[str]) -> None:
    for params in grid:
        score = evaluate(params)
    publish(score)
