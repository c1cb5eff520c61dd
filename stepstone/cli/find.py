"""Finding what a command names: a workflow by its name or file, a run by its id (or a
unique prefix), on the local store or in Step Functions; each miss is one line and exit 2."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

from compiler.workflows import ParamsError, WorkflowDef

from ..console import fail
from ..local import find_run
from ..local.records import RunRecord
from .common import load_or_exit, one_workflow
from .remote import remote_errors, store

__all__ = ["arn_machine", "find_workflow", "local_record", "manual", "params_or_exit", "remote_arn",
           "workflow_files"]


def manual() -> dict[str, Any]:
    """The trigger of a run a person starts."""
    return {"kind": "manual", "by": os.environ.get("USER") or "stepstone"}


# --- finding workflows and runs -----------------------------------------------------------


def workflow_files() -> list[str]:
    """The project's workflow files: $STEPSTONE_WORKFLOWS (globs, comma-separated), else the
    CDK app's ``stepstone:workflows`` in cdk.json, else examples/*.py."""
    patterns: list[str] = []
    if os.environ.get("STEPSTONE_WORKFLOWS"):
        patterns = [p.strip() for p in os.environ["STEPSTONE_WORKFLOWS"].split(",") if p.strip()]
    elif Path("cdk.json").exists():
        try:
            setting = json.loads(Path("cdk.json").read_text()).get("context", {}).get("stepstone:workflows")
        except ValueError:
            setting = None
        patterns = [setting] if isinstance(setting, str) else list(setting or [])
    return sorted({f for p in (patterns or ["examples/*.py"]) for f in glob.glob(p)})


def find_workflow(name: str) -> tuple[str, WorkflowDef[..., Any]]:
    """``FILE[:NAME]``, or the name of a workflow in the project's workflow files: (spec, workflow)."""
    from compiler.errors import CompileError
    from compiler.loader import LoadError, load_workflows

    if name.endswith(".py") or ".py:" in name or os.sep in name:
        workflow = one_workflow(name, load_or_exit(name))
        return f"{name.rsplit(':', 1)[0] if '.py:' in name else name}:{workflow.name}", workflow
    known: list[str] = []
    for file in workflow_files():
        try:
            workflows = load_workflows(file)
        except (LoadError, CompileError):
            continue
        for workflow in workflows:
            if name in (workflow.name, workflow.fn.__name__):
                return f"{file}:{workflow.name}", workflow
            known.append(workflow.name)
    fail(f"no workflow named {name!r} in {', '.join(workflow_files()) or 'the project'}",
         hint=("name one of: " + ", ".join(sorted(set(known)))) if known else "name its file: FILE.py[:NAME]")


def local_record(home: str | None, run_id: str) -> RunRecord:
    record = find_run(store(home), run_id)
    if record is None:
        fail(f"no run {run_id!r} in {store(home).root}", hint="list runs with `stepstone runs`")
    return record


def remote_arn(target: Any, run_id: str) -> str:
    from ..localstack.target import NoSuchRun

    with remote_errors(target.label):
        try:
            return str(target.find(run_id))
        except NoSuchRun:
            fail(f"no run {run_id!r} on {target.label}",
                 hint=f"list runs with `stepstone runs --target {target.where}`")


def params_or_exit(definition: WorkflowDef[..., Any], pairs: tuple[str, ...],
                   input_file: Path | None) -> dict[str, Any]:
    from .local import _describe_params, _parse_params

    try:
        return definition.validate_params(_parse_params(pairs, input_file))
    except ParamsError as exc:
        fail(f"parameters of {definition.name!r} do not validate: " + "; ".join(exc.errors),
             hint=f"pass --param NAME=VALUE; the parameters are: {_describe_params(definition)}")


def arn_machine(arn: str) -> str:
    parts = arn.split(":")
    return ":".join([*parts[:5], "stateMachine", parts[6]])
