"""5. The LocalStack loop: how long `stepstone run FILE --target localstack` takes, and how
fast LocalStack's interpreter moves through a long workflow.

The command runs as a user runs it (a new process: interpreter start, imports, compile,
deploy, run, the final table); its own output says how long the deploy took and its
record how long the run took. The baseline is the same workflow on the local target, also
a new process: what the emulated AWS adds to the loop. Then a chain of N no-op steps runs
on LocalStack: state transitions per second of its run (from the history), against the
same chain's steps per second on the local target.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .core import ROOT, Context, Figure
from .emulated import session

__all__ = ["chain_source", "run"]


def chain_source(n: int) -> str:
    """A workflow of ``n`` no-op steps, each taking the one before."""
    calls = ["    value = bump(start)"] + ["    value = bump(value)" for _ in range(n - 1)]
    return ('"""A chain of no-op steps (generated for the benchmarks)."""\n\n'
            "from stepstone import step, workflow\n\n\n"
            "@step\ndef bump(value: int) -> int:\n    return value + 1\n\n\n"
            f"@workflow\ndef chain_{n}(start: int = 0) -> int:\n" + "\n".join(calls) + "\n    return value\n")


def _command(args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "stepstone", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"}, check=False)
    return time.perf_counter() - started, done


def run(ctx: Context) -> list[Figure]:
    aws = session(ctx)
    if aws is None:
        return [Figure("localstack", "stepstone run --target localstack", None, "s", "the local target", None,
                       note="LocalStack not available: not measured")]
    figures: list[Figure] = []
    spec = "examples/etl_s3.py" if ctx.smoke else "examples/ml_training.py"
    home = ctx.work / "local-home"
    ctx.say(f"localstack: {spec} on the local target, then on LocalStack")
    local_seconds, local = _command(["run", spec, "--home", str(home), "--json"])
    remote_seconds, remote = _command(["run", spec, "--target", "localstack", "--json"])
    if remote.returncode != 0 or local.returncode != 0:
        return [Figure("localstack", f"stepstone run {spec} --target localstack", None, "s",
                       note=f"the run failed: {(remote.stderr or local.stderr)[-300:]}")]
    deployed = re.search(r"deployed \S+ to LocalStack in ([\d.]+) s \((\d+) change", remote.stderr)
    record: dict[str, Any] = json.loads(remote.stdout)
    run_seconds = (record.get("duration_ms") or 0.0) / 1000
    figures.append(Figure("localstack", f"run {Path(spec).name} --target localstack, to the final table",
                          remote_seconds, "s", "the same on the local target", local_seconds,
                          note=f"deploy {float(deployed.group(1)) if deployed else float('nan'):.1f} s "
                               f"({deployed.group(2) if deployed else '?'} changes), run {run_seconds:.1f} s, the "
                               "rest interpreter start, imports and compile"))
    figures.append(Figure("localstack", "  of which the run in Step Functions", run_seconds, "s",
                          "the run on the local target", (json.loads(local.stdout).get("duration_ms") or 0.0) / 1000))
    n = ctx.size(100, 5)
    folder = ctx.work / "chains"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"chain_{n}.py"
    path.write_text(chain_source(n), encoding="utf-8")
    from compiler.loader import load_workflows

    definition = load_workflows(str(path))[0]
    ctx.say(f"localstack: a chain of {n} steps")
    arn = aws.start(definition, {})
    remote_record = aws.wait(arn, timeout=600)
    events = aws.history(arn)
    transitions = sum(1 for e in events if str(e["type"]).endswith("StateEntered"))
    seconds = (remote_record.duration_ms or 0.0) / 1000
    from lambdas.store import LocalStore
    from stepstone.local import LocalRun

    clock = time.perf_counter()
    LocalRun(definition, LocalStore(ctx.work / "chain-home"), run_id=f"chain-{int(time.time())}").run({"start": 0})
    local_steps_per_second = n / (time.perf_counter() - clock)
    figures.append(Figure("localstack", f"chain of {n} steps: transitions per second", transitions / seconds
                          if seconds else None, "transitions/s", "the local target's steps per second",
                          local_steps_per_second,
                          note=f"{transitions} transitions in {seconds:.1f} s, {remote_record.status}"))
    return figures
