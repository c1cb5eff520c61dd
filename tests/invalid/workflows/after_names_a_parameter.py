# expect-rule: bad-after
# expect-line: 21
# expect-message: after=[dataset_uri]: 'dataset_uri' is not the result of a step
"""after= names a workflow parameter: it orders a step after other steps, so it takes their results."""
from stepstone import step, workflow


@step
def train(dataset_uri: str) -> str:
    return "s3://models/m"


@step
def publish(model_uri: str) -> None:
    print(model_uri)


@workflow
def train_and_publish(dataset_uri: str) -> None:
    model_uri = train(dataset_uri)
    publish(model_uri, after=[dataset_uri])
