"""Which files a workflow's Lambda functions and Batch jobs need: the step runner and the
workflow's own code. Pure Python: the LocalStack deployer and the CDK app both package what
this lists.

The step runner is what a running step imports of stepstone: the DSL (``compiler/dsl``,
which the workflow file imports through ``stepstone``), the protocol, the runtime
(``lambdas/``) and the two package fronts that re-export them. Never the compiler's passes,
the command line or the LocalStack code: a test imports the runner from this bundle alone
and checks that none of them loads. The workflow's code is the top package its file
belongs to, or, for a file outside a package, the modules and packages beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..loader import module_name_for

__all__ = ["RUNTIME_FILES", "RUNTIME_PACKAGES", "function_sources"]

# the step runner's files, relative to the folder above the packages (a folder: all of it)
RUNTIME_FILES = ("compiler/__init__.py", "compiler/dsl", "compiler/protocol", "lambdas", "stepstone/__init__.py")
RUNTIME_PACKAGES = ("compiler", "lambdas", "stepstone")  # their top-level names
# never needed at run time: tests, build output, and the LocalStack plugin (it runs inside LocalStack)
SKIP_DIRS = {"__pycache__", "node_modules", "cdk.out", "plugin", "tests", "build", "dist"}


def _package_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p in SKIP_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
            continue
        yield path


def function_sources(workflow_file: Path | None) -> Iterator[tuple[str, Path]]:
    """(path in the package, file) for everything the functions import from this project,
    sorted and without repeats; ``None``: the runner's packages only."""
    seen: set[str] = set()
    for name, path in sorted(_all_sources(workflow_file.resolve() if workflow_file else None)):
        if name not in seen:
            seen.add(name)
            yield name, path


def _all_sources(workflow_file: Path | None) -> Iterator[tuple[str, Path]]:
    site = Path(__file__).resolve().parents[2]
    for entry in RUNTIME_FILES:
        found = site / entry
        for path in _package_files(found) if found.is_dir() else [found]:
            yield path.relative_to(site).as_posix(), path
    if workflow_file is None:
        return
    module, root = module_name_for(workflow_file)
    top = module.split(".")[0]
    if "." in module:  # a package: all of it
        for path in _package_files(root / top):
            yield path.relative_to(root).as_posix(), path
        return
    for path in sorted(root.glob("*.py")):  # a plain module: its neighbours, and packages beside it
        yield path.name, path
    for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").exists()):
        if folder.name in RUNTIME_PACKAGES or folder.name.startswith(".") or folder.name in SKIP_DIRS:
            continue
        for path in _package_files(folder):
            yield path.relative_to(root).as_posix(), path
