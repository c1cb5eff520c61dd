# expect-rule: unsupported-statement
# expect-line: 24
# expect-message: break is not supported: every item of a fan-out runs
"""A break inside a fan-out loop: every item of a fan-out runs."""
from pydantic import BaseModel

from stepstone import step, workflow


class Score(BaseModel):
    good: bool


@step
def evaluate(params: str) -> Score:
    return Score(good=True)


@workflow
def search_until_good(grid: list[str]) -> None:
    for params in grid:
        score = evaluate(params)
        if score.good:
            break
