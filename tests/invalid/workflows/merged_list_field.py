# expect-rule: unsupported-expression
# expect-line: 30
# expect-message: xs = result.items: a variable assigned more than once (in branches, or appended to in a loop) can hold a whole step result or a top-level number, string or boolean field of one
"""A list field of a step result merged into a variable from two branches: the run's state
keeps only a result's top-level scalars beside the result, so the copy has nothing to read."""
from pydantic import BaseModel

from stepstone import step, workflow


class Batch(BaseModel):
    items: list[int]
    n: int


@step
def make() -> Batch:
    return Batch(items=[1, 2, 3], n=3)


@step
def total(xs: list[int]) -> int:
    return sum(xs)


@workflow
def merged(flag: bool = True) -> int:
    result = make()
    if flag:
        xs = result.items
    else:
        xs = [0]
    return total(xs)
