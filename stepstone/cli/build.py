"""Commands that work on workflow files: compile, validate, graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from compiler import CompileError, compile_workflow
from compiler.errors import LoadError
from compiler.explain import explain
from compiler.graph import FORMATS, build_graph, render, status_classes, to_mermaid
from compiler.loader import load_module, load_workflows, split_spec, workflows_in
from compiler.parse import parse_workflow
from compiler.pipeline import check

from ..console import EXIT_COMPILE, EXIT_FAILED, EXIT_OK, err, fail, out, print_compile_error
from ..graph_view import record_statuses
from . import main
from .common import compile_or_exit, error_json, load_or_exit, one_workflow
from .targets import home_option, opened, target_errors, target_option

if TYPE_CHECKING:
    pass


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
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(compiled.asl_json, encoding="utf-8")
            except OSError as exc:
                fail(f"cannot write {target}: {exc.strerror or exc}", hint="write to a folder you can write to")
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
            fail(str(exc), hint=exc.hint or "check the path")
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
    if not report:  # every file held no workflow: nothing was checked, which is no "valid"
        fail(f"no @workflow in {', '.join(specs)}", hint="name the files that define workflows (stepstone validate "
                                                         "examples/*.py passes over those that define none)")
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    sys.exit(EXIT_FAILED if invalid else EXIT_OK)


@main.command()
@click.argument("spec", metavar="FILE[:NAME]")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True,
              help="mermaid renders on GitHub and in Markdown; dot is for Graphviz (dot -Tsvg).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to a file (with --html: the page; default WORKFLOW.html or WORKFLOW-RUN.html).")
@click.option("--html", "as_html", is_flag=True,
              help="Write a self-contained HTML page (Mermaid inlined: it opens offline) instead of text.")
@click.option("--run", "run_id", metavar="RUN_ID",
              help="Colour the states by how this run went (a unique prefix of its id is enough); the page adds "
                   "a legend, the run's summary and its steps.")
@home_option
@target_option
def graph(spec: str, fmt: str, output: Path | None, as_html: bool, run_id: str | None, home: str | None,
          target: str) -> None:
    """Draw a workflow: its steps, what depends on what, its conditions and fan-outs.

    \b
    FILE is a workflow file; FILE:NAME picks one workflow when the file holds several.
    With --run, the states are coloured by that run: green succeeded, cyan cached or
    reused, yellow running or retrying, red failed, grey not run. --html writes a page
    that opens in any browser without a network (Mermaid is inlined from node_modules:
    `npm ci` installs it).
    Examples:
      stepstone graph examples/ml_training.py > ml_training.mmd
      stepstone graph examples/hpo_fanout.py --format dot | dot -Tsvg > hpo.svg
      stepstone graph examples/ml_training.py --html                  (writes ml_training.html)
      stepstone graph examples/etl_s3.py --html --run 20261122-171512-3f9a
      stepstone graph examples/etl_s3.py --html --run 20261122-171512 -t localstack -o run.html
    """
    if as_html and fmt != "mermaid":
        fail("--html draws with Mermaid; leave out --format dot")
    if home and not run_id:  # --target may come from $STEPSTONE_TARGET: it only matters with --run
        fail("--home says where to find the run; give it with --run RUN_ID")
    where = opened(target, home, check=run_id is not None)
    if run_id and fmt != "mermaid":
        fail("--run colours the Mermaid picture; leave out --format dot")
    workflow = one_workflow(spec, load_or_exit(spec))
    try:
        ir = parse_workflow(workflow)
    except CompileError as exc:
        print_compile_error(exc)
        sys.exit(EXIT_COMPILE)
    drawing = build_graph(ir)
    record = None
    if run_id:
        with target_errors(where):
            record = where.record(run_id)
    if record is not None and record.workflow != workflow.name:
        fail(f"run {record.run_id} is of workflow {record.workflow!r}, not {workflow.name!r}",
             hint=f"draw it with the file it ran from: stepstone graph {record.file} --run {record.run_id}"
             if record.file else f"draw it with the file that defines {record.workflow!r}")
    if as_html:
        from ..errors import MermaidMissingError
        from ..graph_page import graph_page, project_root

        try:
            page = graph_page(drawing, record=record, source=spec)
        except MermaidMissingError:
            fail(f"the HTML page needs Mermaid: run `npm ci` in {project_root()}")
        target_file = output or Path(f"{workflow.name}-{record.run_id}.html" if record else f"{workflow.name}.html")
        try:
            target_file.write_text(page, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {target_file}: {exc.strerror or exc}")
        err.print(f"wrote {escape(str(target_file))} ({len(page.encode()) / 1e6:.1f} MB, opens offline)")
        return
    if record is not None:
        text = to_mermaid(drawing, classes=status_classes(drawing, record_statuses(record), run_status=record.status,
                                                          failed_state=record.failed_state))
    else:
        text = render(drawing, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}", hint="write to a folder you can write to")
        err.print(f"wrote {escape(str(output))}")

