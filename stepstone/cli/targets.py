"""What the commands share about targets: the --target and --home options, opening the
target a command names, and its failures as one line with the fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.markup import escape

from ..console import EXIT_FAILED, err, fail
from ..errors import LocalStackError, NothingToDoError, TargetError
from ..targets import TARGETS, Target, open_target
from ..targets.local import DEFAULT_HOME

__all__ = ["home_option", "opened", "progress", "target_errors", "target_option"]

target_option = click.option(
    "-t", "--target", type=click.Choice(TARGETS), default="local", show_default=True, envvar="STEPSTONE_TARGET",
    help="Where the runs are: local (this machine's .stepstone/), localstack (`stepstone localstack up` first) "
         "or aws (your AWS credentials; `stepstone deploy` first). Default from $STEPSTONE_TARGET.")
home_option = click.option(
    "--home", metavar="DIR", help=f"Local runs' folder (default: $STEPSTONE_HOME or {DEFAULT_HOME}).")


@contextmanager
def target_errors(target: Target) -> Iterator[None]:
    """A target going away or refusing mid-command is one line (and the fix), not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        yield
    except NothingToDoError as exc:
        fail(str(exc), hint=exc.hint or None, code=EXIT_FAILED)
    except TargetError as exc:
        fail(str(exc), hint=exc.hint or None)
    except LocalStackError as exc:
        fail(str(exc), hint="start it with `stepstone localstack up`")
    except NoCredentialsError:
        fail("no AWS credentials found", hint="configure them (`aws configure` or AWS_PROFILE)")
    except (BotoCoreError, ClientError) as exc:
        fail(f"{target.label}: {exc}", hint=target.unreachable_hint)


def opened(name: str, home: str | None = None, *, check: bool = True) -> Target:
    """The target ``--target`` names, checked to answer (unless ``check`` is False); one line
    and exit 2 when it does not."""
    try:
        target = open_target(name, home=home)
    except TargetError as exc:
        fail(str(exc), hint=exc.hint or None)
    if check:
        with target_errors(target):
            target.check()
    return target


@contextmanager
def progress(first: str) -> Iterator[Callable[[str], None]]:
    """A spinner with the current step on a terminal; elsewhere (CI, pipes) a line per step taken."""
    if err.is_terminal:
        with err.status(escape(first)) as status:
            yield lambda line: status.update(escape(line))
        return
    yield lambda line: err.print(f"[dim]{escape(line)}[/dim]")
