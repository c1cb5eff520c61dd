# expect-rule: empty-workflow
# expect-line: 9
# expect-message: workflow 'echo' calls no step
"""A workflow whose body calls no step: there would be nothing to run."""
from stepstone import workflow


@workflow
def echo(message: str) -> str:
    return message
