# expect-rule: duplicate-workflow-name
# expect-line: 19
# expect-message: two workflows are named 'nightly': train_nightly (line 14) and score_nightly (line 19)
"""Two workflows with one name: deployed, the second state machine would replace the first."""
from stepstone import step, workflow


@step
def train(day: str) -> str:
    return f"model-{day}"


@workflow(name="nightly")
def train_nightly(day: str = "today") -> str:
    return train(day)


@workflow(name="nightly")
def score_nightly(day: str = "today") -> str:
    return train(day)
