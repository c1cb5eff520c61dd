"""``python -m benchmarks``: every benchmark, a table of figures against baselines measured
in the same run, and the figures as JSON.

    python -m benchmarks                  # all eight, full sizes (about 10 minutes)
    python -m benchmarks --smoke          # all eight at tiny sizes (what the tests run)
    python -m benchmarks --only compile,local --json out.json

Benchmarks that need LocalStack use the running one or start their own (and stop it);
``STEPSTONE_BENCH_START_LOCALSTACK=0`` leaves them out instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .core import ROOT, Context, Figure

BENCHMARKS = {  # name -> (module, title), in the order
    "compile": ("compile_scale", "1. compile scale"),
    "parallelism": ("parallelism", "2. parallelism kept"),
    "cost": ("run_cost", "3. cost of a run (LocalStack histories)"),
    "local": ("local_speed", "4. local iteration speed"),
    "localstack": ("localstack_loop", "5. the LocalStack loop"),
    "cold-start": ("cold_start", "6. Lambda cold start of the step runner"),
    "cdk-synth": ("cdk_synth", "7. cdk synth of the examples app"),
    "values": ("value_store", "8. a 50 MB DataFrame from step to step"),
}

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()
    return {"date": datetime.now(UTC).isoformat(timespec="seconds"), "platform": platform.platform(),
            "python": platform.python_version(), "cpus": os.cpu_count(),
            "memory_gb": round(memory_gb, 1) if memory_gb else None, "commit": commit or None}


_SHOWN_UNITS = {"s", "ms", "MB", "KB"}  # others are named in the figure's name: the value stays short


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s" and value < 1:
        return f"{value * 1000:,.1f} ms"
    suffix = f" {unit}" if unit in _SHOWN_UNITS else ""
    if unit == "ratio":
        return f"{value:.3f}"
    if abs(value) >= 100:
        return f"{value:,.0f}{suffix}"
    return f"{value:,.3g}{suffix}"


def table(figures: list[Figure]) -> Group:
    """The figures, one row each, and under the table what each baseline is and each note."""
    grid = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1, 0, 0))
    for column, justify in (("#", "right"), ("figure", "left"), ("value", "right"), ("baseline", "right"),
                            ("ratio", "right"), ("goal", "left")):
        grid.add_column(column, justify=justify)  # type: ignore[arg-type]
    notes: list[Text] = []
    for index, figure in enumerate(figures, start=1):
        mark = {True: ("✓ ", "green"), False: ("✗ ", "bold red"), None: ("", "")}[figure.met]
        ratio = f"{figure.ratio:.3g}x" if figure.ratio is not None else ""
        grid.add_row(str(index), figure.name.strip(), _number(figure.value, figure.unit),
                     _number(figure.baseline, figure.unit) if figure.baseline is not None else "", ratio,
                     Text.assemble(mark, figure.goal))
        details = "; ".join(part for part in (f"baseline: {figure.baseline_name}" if figure.baseline_name else "",
                                               figure.note) if part)
        if details:
            notes.append(Text(f"{index:>2} {details}", style="dim"))
    return Group(grid, *notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that every benchmark still runs")
    parser.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--json", dest="json_path", type=Path, default=None,
                        help="where to write the figures (default .stepstone/bench/results[-smoke].json)")
    parser.add_argument("--seed", type=int, default=Context.seed, help="for the generated workflows")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        err.print(f"[bold red]error:[/bold red] no benchmark {', '.join(unknown)}; there are: {', '.join(BENCHMARKS)}")
        return 2
    ctx = Context(smoke=args.smoke, seed=args.seed, say=lambda line: err.print(f"[dim]{line}[/dim]"))
    ctx.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke, "benchmarks": {}}
    everything: list[Figure] = []
    for name in chosen:
        module_name, title = BENCHMARKS[name]
        err.print(f"[bold]{title}[/bold]")
        clock = time.perf_counter()
        try:
            module = importlib.import_module(f"benchmarks.{module_name}")
            figures: list[Figure] = module.run(ctx)
        except Exception as exc:  # one benchmark's failure is a line of the table, not the end of the run
            figures = [Figure(name, title, None, "", note=f"failed: {type(exc).__name__}: {exc}")]
        seconds = time.perf_counter() - clock
        results["benchmarks"][name] = {"title": title, "seconds": round(seconds, 1),
                                       "figures": [f.as_json() for f in figures]}
        everything.extend(figures)
        out.print(Text(f"\n{title}  ({seconds:.0f} s)", style="bold"))
        out.print(table(figures))
    path = args.json_path or ctx.work / ("results-smoke.json" if args.smoke else "results.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    info = results["machine"]
    out.print(Text(f"\n{info['cpus']} cores, {info['memory_gb']} GiB, Python {info['python']}, "
                   f"{info['platform']}, commit {info['commit']}; figures in {path}", style="dim"))
    missed = [f for f in everything if f.met is False]
    if missed:
        out.print(Text(f"{len(missed)} goal(s) not met: " + "; ".join(f.name for f in missed), style="bold red"))
    failed = [f for f in everything if f.value is None and f.note.startswith("failed:")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
