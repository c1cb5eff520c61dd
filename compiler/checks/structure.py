"""Rules about the workflow's shape: state names, and workflows that start each other in a cycle."""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..dsl.errors import CompileError, Location
from ..dsl.quotas import STATE_NAME_LIMIT
from ..ir import CallWorkflow, Workflow
from ..plan import all_nodes
from . import CheckContext, rule

_NAME_OK = re.compile(rf"^[A-Za-z0-9 _.()'=!+-]{{1,{STATE_NAME_LIMIT}}}$")


@rule("state-name")
def state_names(context: CheckContext) -> Iterable[CompileError]:
    """State names: at most 80 characters, in characters every Step Functions console shows."""
    for node in all_nodes(context.workflow.body):
        if not _NAME_OK.match(node.name):
            yield CompileError(f"state name {node.name!r} is longer than 80 characters or uses characters "
                               "Step Functions' logs reject", rule="state-name", location=node.location,
                               hint="give the step a shorter name with @step(name=...)")


def _called_workflows(definition: Any) -> list[tuple[Any, Location]]:
    """The @workflow functions a workflow's body calls (read from its source, not compiled)."""
    from ..dsl.workflows import WorkflowDef

    try:
        source = inspect.getsource(definition.fn)
        _, start = inspect.getsourcelines(definition.fn)
    except (OSError, TypeError):
        return []
    import textwrap

    tree = ast.parse(textwrap.dedent(source))
    found = []
    file = inspect.getsourcefile(definition.fn) or "?"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            target = definition.fn.__globals__.get(node.func.id)
            if isinstance(target, WorkflowDef):
                found.append((target, Location(file, start + node.lineno - 1, node.col_offset + 1)))
    return found


@rule("cycle")
def workflow_cycles(context: CheckContext) -> Iterable[CompileError]:
    """Workflows that start each other in a circle would start runs for ever."""
    definition = context.definition
    if definition is None or not context.workflow.calls:
        return
    path: list[str] = [definition.name]

    def visit(current: Any, first_call: Location | None) -> Iterator[CompileError]:
        for callee, where in _called_workflows(current):
            if callee.name == definition.name:
                chain = " -> ".join([*path, callee.name])
                yield CompileError(f"workflows start each other in a cycle: {chain}", rule="cycle",
                                   location=first_call or where,
                                   hint="a workflow must not (even indirectly) start itself")
                return
            if callee.name in path:
                continue
            path.append(callee.name)
            yield from visit(callee, first_call or where)
            path.pop()

    yield from visit(definition, None)


@rule("nested-workflow")
def nested_workflows(context: CheckContext) -> Iterable[CompileError]:
    """A called workflow is deployed as its own state machine; its name must differ."""
    wf: Workflow = context.workflow
    for node in all_nodes(wf.body):
        if isinstance(node, CallWorkflow) and node.workflow == wf.name:
            yield CompileError(f"workflow {wf.name!r} calls a workflow with its own name", rule="cycle",
                               location=node.location, hint="rename one of the two workflows")
