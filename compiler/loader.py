"""Find workflows in a file: ``path/to/file.py`` or ``path/to/file.py:NAME``.

A file is imported under the module name the step runner will later use to import its
steps: when its folder is a package (has ``__init__.py``), ``examples/ml_training.py``
is ``examples.ml_training``, imported with the folder above the top package on
``sys.path``; otherwise it is a top-level module named after the file.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from .dsl.errors import CompileError, Location
from .dsl.packages import forget_packages
from .dsl.workflows import WorkflowDef
from .errors import LoadError

__all__ = ["LoadError", "load_module", "load_workflows", "module_name_for", "split_spec",
           "workflows_in"]


def split_spec(spec: str) -> tuple[Path, str | None]:
    """``file.py:NAME`` -> (path, NAME); a drive letter's colon is not a separator."""
    head, sep, tail = spec.rpartition(":")
    if sep and head and tail and not tail.startswith(("/", "\\")) and not (len(head) == 1 and head.isalpha()):
        return Path(head), tail
    return Path(spec), None


def module_name_for(path: Path) -> tuple[str, Path]:
    """The module name of ``path`` and the folder that must be on sys.path to import it."""
    path = path.resolve()
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").exists():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def _import_failure(path: Path, exc: BaseException, why: str | None = None, *,
                    hint: str | None = None) -> CompileError:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    location = Location(str(path), frames[-1].lineno or 1) if frames else Location(str(path), 1)
    if hint is None and isinstance(exc, ModuleNotFoundError) and exc.name:
        hint = (f"install {exc.name.partition('.')[0]!r} where stepstone runs (pip install ...), or fix the "
                f"import; `python {path}` shows the full error")
    return CompileError(
        f"importing {path.name} failed: {why or f'{type(exc).__name__}: {exc}'}",
        rule="import-error",
        location=location,
        hint=hint or "the workflow file must import cleanly; run `python " + str(path) + "` to see the full error",
    )


def _not_source(path: Path, exc: SyntaxError) -> CompileError | None:
    """A clearer error than Python's when the file is not Python text at all."""
    if "null bytes" in exc.msg or "codec can't decode" in exc.msg:
        return CompileError(f"{path.name} is not Python source: it holds bytes that are not UTF-8 text",
                            rule="syntax-error", location=Location(str(path), exc.lineno or 1),
                            hint="point stepstone at the .py file that defines your @workflow")
    return None


def load_module(path: Path) -> ModuleType:
    if not path.exists():
        raise LoadError(f"no such file: {path}")
    if path.is_dir():
        raise LoadError(f"{path} is a folder, not a workflow file")
    if path.suffix != ".py":
        raise LoadError(f"{path} is not a Python file (.py)")
    if "." in path.stem:
        raise LoadError(f"{path.name} cannot be imported as a Python module: its name has a '.' before '.py'",
                        hint=f"rename it, for example to {path.stem.replace('.', '_')}.py")
    name, root = module_name_for(path)
    existing = sys.modules.get(name)
    if existing is not None:
        existing_file = getattr(existing, "__file__", None)
        if existing_file and Path(existing_file).resolve() == path.resolve():
            return existing
        raise LoadError(f"{path} would be imported as {name!r}, but another module of that name is loaded "
                        f"({existing_file}); rename the file")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    forget_packages(path)  # what it declares is what this import of it declares
    try:
        return importlib.import_module(name)
    except CompileError:
        sys.modules.pop(name, None)
        raise
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        where = Path(exc.filename).resolve() if exc.filename and not exc.filename.startswith("<") else path
        raise _not_source(where, exc) or CompileError(
            f"syntax error: {exc.msg}", rule="syntax-error",
            location=Location(str(where), exc.lineno or 1, exc.offset or 0),
            hint="fix the Python syntax first") from None
    except SystemExit as exc:  # sys.exit() at import would end stepstone itself, silently
        sys.modules.pop(name, None)
        raise _import_failure(path, exc, f"it calls sys.exit({exc.code!r}) when imported",
                              hint="put what runs the file as a script under `if __name__ == \"__main__\":`"
                              ) from None
    except Exception as exc:
        sys.modules.pop(name, None)
        raise _import_failure(path, exc) from None


def workflows_in(module: ModuleType) -> list[WorkflowDef[..., Any]]:
    """The workflows a module defines (not those it imports), in the order they are written."""
    found = [v for v in vars(module).values()
             if isinstance(v, WorkflowDef) and v.fn.__module__ == module.__name__]
    unique = {id(w): w for w in found}
    ordered = sorted(unique.values(), key=lambda w: w.location.line)
    seen: dict[str, WorkflowDef[..., Any]] = {}
    for workflow in ordered:
        first = seen.setdefault(workflow.name, workflow)
        if first is not workflow:  # two state machines of one name: the second would replace the first
            raise CompileError(
                f"two workflows are named {workflow.name!r}: {first.fn.__name__} (line {first.location.line}) and "
                f"{workflow.fn.__name__} (line {workflow.location.line})", rule="duplicate-workflow-name",
                location=workflow.location, hint="give one of them another name with @workflow(name=...)")
    return ordered


def load_workflows(spec: str, *, all_if_several: bool = True) -> list[WorkflowDef[..., Any]]:
    """The workflows a spec names: every workflow of the file, or the one called NAME."""
    path, name = split_spec(spec)
    module = load_module(path)
    workflows = workflows_in(module)
    if name is not None:
        chosen = [w for w in workflows if name in (w.name, w.fn.__name__)]
        if not chosen:
            known = ", ".join(w.name for w in workflows) or "none"
            raise LoadError(f"{path} has no workflow named {name!r} (its workflows: {known})")
        return chosen
    if not workflows:
        raise LoadError(f"{path} defines no @workflow")
    if len(workflows) > 1 and not all_if_several:
        names = ", ".join(w.name for w in workflows)
        raise LoadError(f"{path} defines several workflows ({names}); pick one with {path}:NAME")
    return workflows
