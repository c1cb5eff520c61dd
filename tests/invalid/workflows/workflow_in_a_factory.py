# expect-rule: bad-workflow
# expect-line: 15
# expect-message: workflow 'make_training.<locals>.training' is defined inside another function
"""A workflow made inside a factory function: the compiler and the step runner find workflows at module level."""
from stepstone import step, workflow


@step
def train(dataset_uri: str) -> str:
    return "s3://models/m"


def make_training(name: str):
    @workflow(name=name)
    def training(dataset_uri: str) -> str:
        return train(dataset_uri)

    return training


nightly = make_training("nightly")
