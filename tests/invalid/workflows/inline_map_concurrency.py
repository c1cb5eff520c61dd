# expect-rule: inline-map-concurrency
# expect-line: 27
# expect-message: max_concurrency=50: an inline fan-out runs at most 40 items at once
"""An inline fan-out asking for more than 40 items at once."""
from pydantic import BaseModel

import stepstone
from stepstone import step, workflow


class Score(BaseModel):
    auc: float


@step
def evaluate(params: str) -> Score:
    return Score(auc=0.5)


@step
def pick_best(scores: list[Score]) -> Score:
    return max(scores, key=lambda s: s.auc)


@workflow
def wide_search(grid: list[str]) -> Score:
    scores = stepstone.map(evaluate, grid, max_items=10, max_concurrency=50)
    return pick_best(scores)
