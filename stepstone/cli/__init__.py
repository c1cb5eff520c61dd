"""The ``stepstone`` command line.

Exit codes, for scripts: see ``stepstone/console.py``, the one place they are chosen from.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .. import __version__
from ..console import EXIT_INTERNAL, fail

__all__ = ["main"]


class _Commands(click.Group):
    """Turns an unexpected exception (a bug in stepstone, not in the user's workflow) into one
    line and exit code 70; ``STEPSTONE_DEBUG=1`` shows the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `stepstone runs | head`: the reader left; say nothing more (Python's advice)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
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
      stepstone run examples/ml_training.py              run it here, in this process
      stepstone graph examples/ml_training.py            the workflow as a Mermaid flowchart
      stepstone compile examples/ml_training.py          the state machine (ASL)
      stepstone validate examples/*.py                   check workflows (exit 1 if one is invalid)
      stepstone runs                                     past runs; stepstone show RUN_ID for one
      stepstone localstack up                            emulated AWS here, for --target localstack
    """


from . import artifacts, build, cost, deploy, lineage, localstack, lock, ops, run, runs  # noqa: E402,F401  (registers the commands)
