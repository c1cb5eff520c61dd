"""The ``stepstone`` command line.

Exit codes, for scripts: 0 ok; 1 the command's verdict is "no" (``validate`` found an
invalid workflow); 2 bad input (usage, a missing file, a workflow that does not compile);
70 a bug in stepstone itself.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from compiler import CompileError, compile_workflow
from compiler.explain import explain
from compiler.graph import FORMATS, build_graph, render
from compiler.loader import LoadError, load_module, load_workflows, split_spec, workflows_in
from compiler.parse import parse_workflow
from compiler.pipeline import CompiledWorkflow, check
from compiler.workflows import WorkflowDef

from . import __version__
from .console import EXIT_COMPILE, EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, err, fail, out, print_compile_error


def _load(spec: str) -> list[WorkflowDef[..., Any]]:
    try:
        return load_workflows(spec)
    except LoadError as exc:
        fail(str(exc), hint="check the path, or list the file's workflows with `stepstone validate FILE`")
    except CompileError as exc:
        print_compile_error(exc)
        sys.exit(EXIT_COMPILE)


def _one(spec: str, workflows: list[WorkflowDef[..., Any]]) -> WorkflowDef[..., Any]:
    if len(workflows) > 1:
        names = ", ".join(w.name for w in workflows)
        fail(f"{spec} defines several workflows: {names}", hint=f"pick one: {spec}:{workflows[0].name}")
    return workflows[0]


def _compile(workflow: WorkflowDef[..., Any]) -> CompiledWorkflow:
    try:
        return compile_workflow(workflow)
    except CompileError as exc:
        print_compile_error(exc)
        sys.exit(EXIT_COMPILE)


class _Commands(click.Group):
    """Turns an unexpected exception (a bug in stepstone, not in the user's workflow) into one
    line and exit code 70; ``STEPSTONE_DEBUG=1`` shows the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("STEPSTONE_DEBUG") == "1":
                raise
            fail(f"internal error in stepstone: {type(exc).__name__}: {exc}",
                 hint="this is a bug in stepstone, not in your workflow; rerun with STEPSTONE_DEBUG=1 and report "
                      "the traceback", code=EXIT_INTERNAL)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="stepstone")
def main() -> None:
    """stepstone: ML and data workflows in plain Python, compiled to AWS Step Functions.

    \b
    Start here:
      stepstone compile examples/ml_training.py          the state machine (ASL)
      stepstone graph examples/ml_training.py            the workflow as a Mermaid flowchart
      stepstone validate examples/*.py                   check workflows (exit 1 if one is invalid)
    """


@main.command("compile")
@click.argument("spec", metavar="FILE[:NAME]")
@click.option("-o", "--output", type=click.Path(dir_okay=True, path_type=Path),
              help="Write the ASL here instead of printing it (a folder when FILE holds several workflows).")
@click.option("--explain", "show_explanation", is_flag=True,
              help="Also say (on stderr) what runs in parallel, what was serialized and why.")
def compile_command(spec: str, output: Path | None, show_explanation: bool) -> None:
    """Compile a workflow to Amazon States Language (JSON).

    \b
    FILE is a workflow file; FILE:NAME picks one workflow when the file holds several.
    Example:
      stepstone compile examples/ml_training.py -o ml_training.asl.json --explain
    """
    workflows = _load(spec)
    if len(workflows) > 1 and not (output and (output.is_dir() or not output.suffix)):
        _one(spec, workflows)
    results = [_compile(w) for w in workflows]
    for compiled in results:
        if output is None:
            sys.stdout.write(compiled.asl_json)
        else:
            target = output / f"{compiled.name}.asl.json" if len(results) > 1 or output.is_dir() else output
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(compiled.asl_json, encoding="utf-8")
            err.print(f"wrote {escape(str(target))} ({compiled.name}: {len(compiled.asl_json):,} bytes)")
        if show_explanation:
            err.print(escape(explain(compiled)), end="")


@main.command()
@click.argument("specs", metavar="FILE[:NAME]...", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON (one object per workflow).")
def validate(specs: tuple[str, ...], as_json: bool) -> None:
    """Check workflows without writing anything: exit 0 when all are valid, 1 when one is not.

    \b
    Runs every check: the supported Python subset, names, arguments and types, cycles,
    Express limits, schedules and triggers, and Step Functions' size and history limits.
    Example:
      stepstone validate examples/*.py
    """
    report: list[dict[str, Any]] = []
    invalid = 0
    for spec in specs:
        try:
            path, name = split_spec(spec)
            workflows = load_workflows(spec) if name else workflows_in(load_module(path))
        except LoadError as exc:
            fail(str(exc))
        except CompileError as exc:
            invalid += 1
            report.append({"file": spec, "workflow": None, "valid": False, "errors": [_error_json(exc)]})
            if not as_json:
                print_compile_error(exc)
            continue
        if not workflows and not as_json:
            out.print(f"[dim]- {escape(spec)}: no workflows[/dim]")
        for workflow in workflows:
            try:
                ir, _, errors = check(workflow)
            except CompileError as exc:
                errors = [exc]
                ir = None
            if not errors:
                try:
                    compile_workflow(workflow)
                except CompileError as exc:
                    errors = [exc]
            valid = not errors
            invalid += 0 if valid else 1
            report.append({"file": spec, "workflow": workflow.name, "valid": valid,
                           "errors": [_error_json(e) for e in errors]})
            if as_json:
                continue
            if valid:
                assert ir is not None
                steps = f"{len(ir.steps)} steps"
                out.print(f"[green]✓[/green] {escape(workflow.name)} [dim]({escape(spec)}: {steps})[/dim]")
            else:
                out.print(f"[red]✗[/red] {escape(workflow.name)} [dim]({escape(spec)})[/dim]")
                for error in errors:
                    print_compile_error(error)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    sys.exit(EXIT_FAILED if invalid else EXIT_OK)


def _error_json(error: CompileError) -> dict[str, Any]:
    location = error.location
    return {
        "rule": error.rule,
        "message": error.message,
        "hint": error.hint,
        "file": location.file if location else None,
        "line": location.line if location else None,
        "col": location.col if location else None,
    }


@main.command()
@click.argument("spec", metavar="FILE[:NAME]")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True,
              help="mermaid renders on GitHub and in Markdown; dot is for Graphviz (dot -Tsvg).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
def graph(spec: str, fmt: str, output: Path | None) -> None:
    """Draw a workflow: its steps, what depends on what, its conditions and fan-outs.

    \b
    FILE is a workflow file; FILE:NAME picks one workflow when the file holds several.
    Examples:
      stepstone graph examples/ml_training.py > ml_training.mmd
      stepstone graph examples/hpo_fanout.py --format dot | dot -Tsvg > hpo.svg
    """
    workflow = _one(spec, _load(spec))
    try:
        ir = parse_workflow(workflow)
    except CompileError as exc:
        print_compile_error(exc)
        sys.exit(EXIT_COMPILE)
    text = render(build_graph(ir), fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {escape(str(output))}")


if __name__ == "__main__":  # pragma: no cover
    main()
