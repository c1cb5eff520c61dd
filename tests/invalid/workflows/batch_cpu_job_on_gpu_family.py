# expect-rule: batch-no-instance
# expect-line: 9
# expect-message: step 'featurize' asks for Batch instances g6, none of which is a CPU instance type stepstone knows (and prices)
"""A CPU job (gpus=0) sent to a GPU family: CPU jobs run on CPU instances."""
from stepstone import Batch, step, workflow


@step(compute=Batch(gpus=0, vcpus=8, memory=16_384, instances=["g6"]))
def featurize(rows: int) -> int:
    return rows


@workflow
def features(rows: int = 1000) -> int:
    return featurize(rows)
