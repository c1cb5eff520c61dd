"""What the run commands share: the --target and --home options, the local artifact store,
and Step Functions targets (LocalStack, AWS) whose failures are one line with the fix."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from ..console import err, fail

__all__ = ["DEFAULT_HOME", "TARGETS", "UP_HINT", "home_option", "progress", "remote", "remote_errors", "store",
           "target_option"]

DEFAULT_HOME = ".stepstone"
TARGETS = ("local", "localstack", "aws")
UP_HINT = "start it with `stepstone localstack up`"

target_option = click.option(
    "-t", "--target", type=click.Choice(TARGETS), default="local", show_default=True, envvar="STEPSTONE_TARGET",
    help="Where the runs are: local (this machine's .stepstone/), localstack (`stepstone localstack up` first) "
         "or aws (your AWS credentials; `stepstone deploy` first). Default from $STEPSTONE_TARGET.")
home_option = click.option(
    "--home", metavar="DIR", help=f"Local runs' folder (default: $STEPSTONE_HOME or {DEFAULT_HOME}).")


def store(home: str | None) -> Any:
    from lambdas.store import LocalStore

    return LocalStore(home or os.environ.get("STEPSTONE_HOME", DEFAULT_HOME))


def writable_store(home: str | None) -> Any:
    """The store runs are written to; one line and exit 2 when its folder cannot be made."""
    found = store(home)
    root = Path(found.root)
    if root.exists() and not root.is_dir():
        fail(f"cannot write runs to {root}: it is not a folder",
             hint="pass --home DIR (or set STEPSTONE_HOME) to a folder you can write to")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        fail(f"cannot write runs to {root}: {exc.strerror or exc}",
             hint="pass --home DIR (or set STEPSTONE_HOME) to a folder you can write to")
    return found


@contextmanager
def remote_errors(label: str = "LocalStack") -> Iterator[None]:
    """Step Functions going away or refusing mid-command is one line, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from ..localstack import LocalStackError
    from ..localstack.target import TargetError

    try:
        yield
    except LocalStackError as exc:
        fail(str(exc), hint=UP_HINT)
    except TargetError as exc:
        fail(str(exc), hint=exc.hint or None)
    except NoCredentialsError:
        fail("no AWS credentials found", hint="configure them (`aws configure` or AWS_PROFILE)")
    except (BotoCoreError, ClientError) as exc:
        if label == "LocalStack":
            fail(f"LocalStack: {exc}", hint=f"is LocalStack running? `stepstone localstack status`; else {UP_HINT}")
        fail(f"{label}: {exc}", hint="check your credentials and region: `aws sts get-caller-identity`")


def remote(where: str) -> Any:
    """The Step Functions target ``where`` (localstack or aws), checked to answer."""
    from ..localstack.target import AwsTarget, LocalStackTarget

    target = AwsTarget() if where == "aws" else LocalStackTarget()
    with remote_errors(target.label):
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
