"""7. `cdk synth` of the examples app: seconds and peak memory.

The pinned CDK CLI (node_modules/.bin/cdk) synthesizes the app in cdk.json (every example
workflow: the shared stack and one stack per workflow file, cdk-nag included) into a fresh
output folder. The baseline is the same CLI synthesizing an app of one empty stack: the
fixed cost of node, the CLI, Python and jsii, so the ratio says what stepstone's stacks
add. Peak memory is the largest resident set among the command's processes (the
``ru_maxrss`` of its children, as GNU time's ``%M``), read in a small watcher process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from .core import ROOT, Context, Figure

__all__ = ["run"]

WATCH = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)"
         ".returncode; print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")
EMPTY_APP = "import aws_cdk as cdk; app = cdk.App(); cdk.Stack(app, 'Empty'); app.synth()"


def _synth(ctx: Context, out: str, app: str | None = None) -> tuple[float, float, str]:
    """Seconds, peak MB (of the biggest child so far) and the error, of one `cdk synth`."""
    folder = ctx.work / out
    shutil.rmtree(folder, ignore_errors=True)
    command = [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", "--no-notices", "--output", str(folder)]
    if app is not None:
        command += ["--app", app]
    started = time.perf_counter()
    # a process of its own around the command, so its children's peak is theirs alone
    done = subprocess.run([sys.executable, "-c", WATCH, *command], cwd=ROOT, capture_output=True, text=True,
                          check=False, env={**os.environ, "CDK_DISABLE_VERSION_CHECK": "1"})
    seconds = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    peak = float(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    return seconds, peak, "" if done.returncode == 0 else (done.stderr or done.stdout)[-400:]


def run(ctx: Context) -> list[Figure]:
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        return [Figure("cdk-synth", "cdk synth of the examples app", None, "s",
                       note="the CDK CLI is not installed: scripts/bootstrap.sh (npm ci) installs it")]
    ctx.say("cdk synth: an empty app (the baseline), then the examples app")
    empty_seconds, empty_peak, problem = _synth(ctx, "cdk-empty", f"{sys.executable} -c \"{EMPTY_APP}\"")
    if problem:
        return [Figure("cdk-synth", "cdk synth of an empty app", None, "s", note=problem)]
    seconds, peak, problem = _synth(ctx, "cdk-examples")
    if problem:
        return [Figure("cdk-synth", "cdk synth of the examples app", None, "s", note=problem)]
    stacks = len(list((ctx.work / "cdk-examples").glob("*.template.json")))
    return [
        Figure("cdk-synth", "cdk synth of the examples app", seconds, "s", "an app of one empty stack", empty_seconds,
               note=f"{stacks} stacks, cdk-nag checked"),
        Figure("cdk-synth", "  its peak memory", peak, "MB", "an app of one empty stack", empty_peak,
               note="the biggest process of the command (ru_maxrss of children)"),
    ]
