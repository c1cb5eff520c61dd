# expect-rule: bad-fan-out
# expect-line: 26
# expect-message: filters (`if`) in a fan-out comprehension are not supported
"""A fan-out comprehension with an if filter."""
from pydantic import BaseModel

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
def filtered_search(grid: list[str]) -> Score:
    scores = [evaluate(p) for p in grid if p != "baseline"]
    return pick_best(scores)
