# expect-rule: unknown-type
# expect-line: 24
# expect-message: cannot tell what kind of values new['auc'] > old['auc'] compares
"""Two fields of untyped step results compared: the compiler cannot tell a number from a string."""
from typing import Any

from stepstone import step, workflow


@step
def evaluate(model_uri: str) -> dict[str, Any]:
    return {"auc": 0.9}


@step
def publish(model_uri: str) -> None:
    print(model_uri)


@workflow
def release_if_better(candidate: str, current: str) -> None:
    new = evaluate(candidate)
    old = evaluate(current)
    if new["auc"] > old["auc"]:
        publish(candidate)
