# expect-rule: bad-map
# expect-line: 18
# expect-message: max_concurrency= must be a literal whole number
"""stepstone.map with its concurrency taken from a module constant instead of written in the call."""
import stepstone
from stepstone import step, workflow

PARALLEL = 4


@step
def train(learning_rate: float) -> float:
    return learning_rate


@workflow
def sweep(grid: list[float]) -> None:
    stepstone.map(train, grid, max_concurrency=PARALLEL)
