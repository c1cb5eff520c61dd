"""Commands that work on workflow files: compile, validate, graph."""

from __future__ import annotations

import json
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
from compiler.pipeline import check

from ..console import EXIT_COMPILE, EXIT_FAILED, EXIT_OK, err, fail, out, print_compile_error
from . import main
from .common import compile_or_exit, error_json, load_or_exit, one_workflow


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
    workflows = load_or_exit(spec)
    if len(workflows) > 1 and not (output and (output.is_dir() or not output.suffix)):
        one_workflow(spec, workflows)
    results = [compile_or_exit(w) for w in workflows]
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
            report.append({"file": spec, "workflow": None, "valid": False, "errors": [error_json(exc)]})
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
                           "errors": [error_json(e) for e in errors]})
            if as_json:
                continue
            if valid:
                assert ir is not None
                steps = f"{len(ir.steps)} step{'' if len(ir.steps) == 1 else 's'}"
                out.print(f"[green]✓[/green] {escape(workflow.name)} [dim]({escape(spec)}: {steps})[/dim]")
            else:
                out.print(f"[red]✗[/red] {escape(workflow.name)} [dim]({escape(spec)})[/dim]")
                for error in errors:
                    print_compile_error(error)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    sys.exit(EXIT_FAILED if invalid else EXIT_OK)


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
    workflow = one_workflow(spec, load_or_exit(spec))
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
