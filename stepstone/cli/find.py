"""Finding what a command names: a workflow by its name or file, a run by its id (or a
unique prefix), on the local store or in Step Functions; each miss is one line and exit 2."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

from compiler.dsl.errors import ParamsError
from compiler.dsl.workflows import WorkflowDef

from ..console import fail
from ..local import find_run
from ..local.records import RunRecord
from .common import load_or_exit, one_workflow
from .remote import remote_errors, store

__all__ = [
    "find_record",
    "find_workflow",
    "local_record",
    "lookup_workflow",
    "manual",
    "params_or_exit",
    "remote_arn",
    "workflow_files",
]


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


def lookup_workflow(name: str, files: list[str],
                    known: list[str] | None = None) -> tuple[str, WorkflowDef[..., Any]] | None:
    """(spec, workflow) of the workflow called ``name`` in ``files`` (those that do not load
    are passed over), or None; ``known`` collects the names seen."""
    from compiler.dsl.errors import CompileError
    from compiler.loader import LoadError, load_workflows

    for file in files:
        try:
            workflows = load_workflows(file)
        except (LoadError, CompileError):
            continue
        for workflow in workflows:
            if name in (workflow.name, workflow.fn.__name__):
                return f"{file}:{workflow.name}", workflow
            if known is not None:
                known.append(workflow.name)
    return None


def find_workflow(name: str) -> tuple[str, WorkflowDef[..., Any]]:
    """``FILE[:NAME]``, or the name of a workflow in the project's workflow files: (spec, workflow)."""
    if name.endswith(".py") or ".py:" in name or os.sep in name:
        workflow = one_workflow(name, load_or_exit(name))
        return f"{name.rsplit(':', 1)[0] if '.py:' in name else name}:{workflow.name}", workflow
    known: list[str] = []
    found = lookup_workflow(name, workflow_files(), known)
    if found is None:
        fail(f"no workflow named {name!r} in {', '.join(workflow_files()) or 'the project'}",
             hint=("name one of: " + ", ".join(sorted(set(known)))) if known else "name its file: FILE.py[:NAME]")
    return found


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
    from compiler.dsl.errors import CompileError

    from ..console import EXIT_COMPILE, print_compile_error
    from .local import _params_hint, _parse_params

    try:
        return definition.validate_params(_parse_params(pairs, input_file))
    except ParamsError as exc:
        fail(f"parameters of {definition.name!r} do not validate: " + "; ".join(exc.errors),
             hint=_params_hint(definition, exc.errors, pairs))
    except CompileError as exc:  # a parameter type no run input can hold
        print_compile_error(exc)
        raise SystemExit(EXIT_COMPILE) from None


def find_record(run_id: str, target: str, home: str | None) -> tuple[RunRecord, str]:
    """The run's record wherever it ran, and where its artifacts are (a folder, or s3://...);
    a missing run is one line and exit 2."""
    from compiler.protocol import machine_of, run_prefix

    from .remote import remote

    if target == "local":
        record = local_record(home, run_id)
        return record, str(Path(store(home).root) / run_prefix(record.workflow, record.run_id))
    sfn = remote(target)
    arn = remote_arn(sfn, run_id)
    with remote_errors(sfn.label):
        found: RunRecord = sfn.record(arn)
        return found, f"s3://{sfn.bucket(machine_of(arn))}/{run_prefix(found.workflow, found.run_id)}"
