"""The CDK app (``cdk.json``: ``python -m cdk.app``): every workflow file the settings name,
a stack each (its deployment plan rendered), beside one shared stack.
``npx cdk synth | diff | deploy | destroy``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def _quiet_node_warning() -> None:
    """jsii warns at every start on a Node version it no longer supports; say it once, in the README."""
    node = shutil.which("node")
    if node and "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in os.environ:
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = version.lstrip("v").split(".")[0]


def build(app: Any, root: Path) -> list[Any]:
    """Add the stacks to ``app``; returns them (the shared stack first)."""
    from compiler import compile_workflow
    from compiler.deployment.plan import plan_deployment
    from compiler.deployment.profile import AWS_PROFILE, LOCALSTACK_PROFILE
    from compiler.loader import load_module, workflows_in

    from .errors import SettingsError
    from .settings import Settings
    from .stacks import SharedStack, WorkflowStack, stack_name

    settings = Settings.from_context(app.node.try_get_context, root)
    files = []
    for file in settings.workflow_files:
        definitions = workflows_in(load_module(file))
        if definitions:  # a module of shared steps has none
            files.append((file, definitions))
    if not files:
        raise SettingsError("stepstone:workflows names no file that defines a @workflow")
    profile = LOCALSTACK_PROFILE if settings.localstack else AWS_PROFILE
    compiled = {d.name: compile_workflow(d, profile=profile) for _, definitions in files for d in definitions}
    plans = [(file, plan_deployment(definitions, profile, compiled=compiled)) for file, definitions in files]
    queues = sorted({job.queue for _, plan in plans for job in plan.jobs})  # Batch steps, where they run on Batch
    buckets = [b for _, plan in plans for b in plan.trigger_buckets] if settings.create_trigger_buckets else []
    shared = SharedStack(app, "stepstone-shared", settings=settings, queues=queues, trigger_buckets=buckets)
    stacks: list[Any] = [shared]
    owner: dict[str, Any] = {}
    for file, plan in plans:
        stack = WorkflowStack(app, stack_name(file, root), file=file, plan=plan, shared=shared, settings=settings)
        stacks.append(stack)
        owner.update({m.name: stack for m in plan.state_machines})
    for stack in stacks[1:]:  # a workflow's stack after the stacks of the workflows it calls
        for machine in stack.plan.state_machines:
            for called in machine.calls:
                if called in owner and owner[called] is not stack:
                    stack.add_stack_dependency(owner[called])
    return stacks


def main() -> None:
    _quiet_node_warning()
    from aws_cdk import App

    from compiler.dsl.errors import CompileError
    from compiler.errors import LoadError

    from .errors import BundleError, SettingsError
    from .nag import check

    app = App()
    root = Path.cwd()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        build(app, root)
    except CompileError as exc:
        print(f"stepstone: {exc.location}: {exc.message}" if exc.location else f"stepstone: {exc}", file=sys.stderr)
        sys.exit(2)  # bad input, as the command line says it (stepstone/console.py)
    except (SettingsError, BundleError, LoadError) as exc:
        print(f"stepstone: {exc}", file=sys.stderr)
        sys.exit(2)  # bad input, as the command line says it (stepstone/console.py)
    check(app)
    app.synth()


if __name__ == "__main__":
    main()
