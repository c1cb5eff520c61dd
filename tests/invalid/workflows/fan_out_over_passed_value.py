# expect-rule: bad-fan-out
# expect-line: 24
# expect-message: parts is a value the calling workflow passed, which this workflow holds by reference
"""A fan-out over a parameter that a calling workflow passes as a step result: the run's
state holds a reference to the list, not the list."""
import pandas as pd

from stepstone import step, workflow


@step
def split(rows: int) -> list[pd.DataFrame]:
    frame = pd.DataFrame({"x": range(rows)})
    return [frame.iloc[i::2] for i in range(2)]


@step
def count(part: pd.DataFrame) -> int:
    return len(part)


@workflow
def counts(parts: list[pd.DataFrame]) -> list[int]:
    return [count(part) for part in parts]


@workflow
def pipeline(rows: int = 4) -> list[int]:
    return counts(split(rows))
