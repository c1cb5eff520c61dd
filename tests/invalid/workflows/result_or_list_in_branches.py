# expect-rule: mixed-kinds
# expect-line: 24
# expect-message: 'models' holds a step result on one path and a value of another kind (a fan-out's list, an approval or a caught error) on another
"""A variable that is a fan-out's list of results on one branch and one step's result on the other."""
from typing import Annotated

from pydantic import Field

from stepstone import step, workflow


@step
def train(learning_rate: float) -> str:
    return "s3://models/m"


@step
def publish(models: list[str]) -> None:
    print(models)


@workflow
def tune(sweep: bool, grid: Annotated[list[float], Field(max_length=10)]) -> None:
    if sweep:
        models = [train(lr) for lr in grid]
    else:
        models = train(0.1)
    publish(models)
