"""``stepstone lock``: resolve what a workflow file declares (``stepstone.packages(...)``,
``@step(packages=[...])``) into its lock, the file every deployed function and job installs."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from compiler.deployment.lock import (
    RUNNER_REQUIREMENTS,
    Declared,
    LockError,
    declared_for,
    ensure_lock,
    inputs_digest,
    lock_path,
    normalised_name,
    read_lock,
    resolve,
)
from compiler.deployment.runtimes import RUNTIMES, function_python, runtime_for
from compiler.dsl.errors import CompileError
from compiler.errors import LoadError
from compiler.loader import load_module, workflows_in

from ..console import EXIT_FAILED, EXIT_OK, err, fail, out, print_compile_error
from . import main

__all__ = ["lock"]


def _declared(file: Path) -> Declared:
    """What ``file`` declares, its steps' own packages read from its deployment plan, as
    ``cdk synth`` reads them (so the two agree on when the lock is up to date)."""
    from compiler.deployment.plan import plan_deployment

    definitions = workflows_in(load_module(file))  # loading it is what registers stepstone.packages(...)
    steps = plan_deployment(definitions).step_packages if definitions else ()
    return declared_for(file, steps)


@main.command()
@click.argument("files", metavar="FILE...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 when a lock is missing or out of date (for CI).")
@click.option("--upgrade", is_flag=True, help="Resolve again even when the lock is up to date.")
@click.option("--python", "python", type=click.Choice(sorted(RUNTIMES)), default=None,
              help="The functions' Python (default: this one on Amazon Linux 2023 runtimes, else 3.12).")
def lock(files: tuple[Path, ...], check_only: bool, upgrade: bool, python: str | None) -> None:
    """Resolve each workflow file's packages into its lock (FILE.lock beside it), to commit.

    The lock holds the step runner's packages, the file's stepstone.packages(...) and each
    step's @step(packages=[...]), resolved once (uv: wheels only, every file's hash) with the
    versions installed here as constraints, so the cloud runs what you tested. Lambda zips,
    Lambda images and Batch images all install from it. `cdk synth` refreshes a lock that is
    out of date; this command does it ahead. Exit code 0 when every lock is written (or, with
    --check, up to date), 1 when one is not, 2 for a file that does not load.

    \b
    Examples:
      stepstone lock examples/ml_training.py
      stepstone lock --check examples/*.py
    """
    runtime = runtime_for(function_python(python))
    stale = 0
    for file in files:
        try:
            declared = _declared(file)
        except LoadError as exc:
            fail(str(exc), hint=exc.hint or "check the path")
        except CompileError as exc:
            print_compile_error(exc)
            sys.exit(2)
        except LockError as exc:
            fail(str(exc), hint="fix the declaration the message names")
        name = escape(str(file))
        if not declared.declares:
            out.print(f"[dim]- {name}: declares no packages (its functions get the step runner's alone); "
                      "nothing to lock[/dim]")
            continue
        current = read_lock(declared.workflow_file)
        fresh = current is not None and current.inputs == inputs_digest(declared, runtime)
        if check_only:
            if not fresh:
                stale += 1
                out.print(f"[red]✗[/red] {name}: its lock is {'out of date' if current else 'missing'} "
                          f"[dim](stepstone lock {name})[/dim]")
            else:
                out.print(f"[green]✓[/green] {name}: its lock is up to date")
            continue
        try:
            made = resolve(declared, runtime) if upgrade else ensure_lock(
                declared, runtime, lambda text: err.print(f"[dim]{escape(text)}[/dim]"))
        except LockError as exc:
            fail(str(exc), hint="pin another version of the package it names, or upgrade it here")
        pins = made.pins
        what = "up to date" if fresh and not upgrade else "written"
        out.print(f"[green]✓[/green] {escape(str(lock_path(Path(file))))} {what}: {len(pins)} packages for "
                  f"python{runtime.python} [dim]({', '.join(f'{n} {pins[n]}' for n in _named(declared, pins))})[/dim]")
    sys.exit(EXIT_FAILED if stale else EXIT_OK)


def _named(declared: Declared, pins: dict[str, str]) -> list[str]:
    """The declared packages (not the runner's or their dependencies), as the lock names them."""
    runner = {normalised_name(r) for r in RUNNER_REQUIREMENTS}
    return [n for n in dict.fromkeys(normalised_name(r) for r in declared.everything) if n in pins and n not in runner]
