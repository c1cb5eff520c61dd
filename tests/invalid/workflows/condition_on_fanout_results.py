# expect-rule: unsupported-condition
# expect-line: 27
# expect-message: scores is the list of results of a fan-out and cannot be tested
"""An if on the list of a fan-out's results."""
from pydantic import BaseModel

from stepstone import step, workflow


class Score(BaseModel):
    auc: float


@step
def evaluate(params: str) -> Score:
    return Score(auc=0.5)


@step
def release(params: str) -> None:
    print(params)


@workflow
def release_if_any(grid: list[str]) -> None:
    scores = [evaluate(p) for p in grid]
    if scores:
        release("best")
