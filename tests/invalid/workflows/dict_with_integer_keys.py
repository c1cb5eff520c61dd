# expect-rule: unserializable-value
# expect-line: 15
# expect-message: the value {0: 1.0, 1: 5.0} cannot be part of a workflow: its key 0 is not a string
"""A dict with integer keys passed to a step: a run's values are JSON, whose keys are strings."""
from stepstone import step, workflow


@step
def train(dataset_uri: str, class_weight: dict[str, float]) -> str:
    return "s3://models/m"


@workflow
def training(dataset_uri: str) -> str:
    return train(dataset_uri, class_weight={0: 1.0, 1: 5.0})
