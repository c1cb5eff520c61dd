"""The code a step's result depends on, hashed: the ``code`` part of a cached step's key.

It covers the step function's source; the source of each function and class of the user's
project it reaches, however far (globals it names, attributes of project modules such as
``helpers.f``, what those use in turn, closure cells, nested functions, methods and bases,
the function under a decorator) and the simple constants (numbers, strings) those name; each
installed distribution whose code it reaches, with its version (a global ``np`` or
``LogisticRegression``: numpy, scikit-learn); stepstone's version and Python's. "Project" is
what is not in the standard library, a site folder, a distribution's RECORD (``pip install
--target``: a Lambda layer) or stepstone's packages (its version stands for them).

Why the bytecode, not the syntax tree: the compiler has already told globals (``LOAD_GLOBAL``)
from locals and cells, and each name is resolved in the function's live ``__globals__``, so
``from mymod import helper as h`` and ``mymod.helper()`` lead to the object that will run;
decorators, lambdas and comprehensions need no special case, and code without source (its
bytes, names and constants stand in) is walked too. The AST would have us redo scoping.
Why by hand: joblib's ``Memory`` hashes a function's own code only (the bug this mends),
cloudpickle pickles importable functions by reference, neither tells project code from
installed code, and a deployed step should carry no more dependencies than it needs.
Attributes are read with ``inspect.getattr_static``: walking never runs a property. Unseen:
callables reached only through data (a dict of callbacks), mutable globals, ``getattr(x, n)``.
"""

from __future__ import annotations

import contextlib
import dis
import functools
import importlib.metadata
import inspect
import os
import platform
import site
import sys
import sysconfig
import types
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compiler.protocol import content_hash

__all__ = ["code_hash", "distribution_version", "explain_code_hash"]

STEPSTONE_PACKAGES = frozenset({"compiler", "lambdas", "stepstone"})
CONSTANTS = (bool, int, float, complex, str, bytes, type(None))
Entry = tuple[str, str, str]  # (kind, label, digest of what went in)
_MISSING = object()  # a name that resolves to nothing (a builtin, a typo)
_walked: weakref.WeakKeyDictionary[Callable[..., Any], tuple[Entry, ...]] = weakref.WeakKeyDictionary()


def code_hash(fn: Callable[..., Any]) -> str:
    """16 hex digits over everything :func:`explain_code_hash` lists and the sources behind it."""
    return content_hash("\n".join("\t".join(entry) for entry in _entries(fn)).encode())[7:23]


def explain_code_hash(fn: Callable[..., Any]) -> list[tuple[str, str]]:
    """What went into :func:`code_hash`, sorted: ``("function", "examples.x:helper")``,
    ``("distribution", "numpy==2.4.0")``, ``("constant", ...)``, ``("stepstone", ...)``, ..."""
    return [(kind, label) for kind, label, _ in _entries(fn)]


def distribution_version(name: str) -> str | None:
    """The installed version of distribution ``name``; None when it is not installed."""
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        return importlib.metadata.version(name)
    return None


def _entries(fn: Callable[..., Any]) -> tuple[Entry, ...]:
    """Once per function object: reading sources costs more than a small step."""
    try:
        return _walked.get(fn) or _walked.setdefault(fn, tuple(sorted(_Walk(fn).found)))
    except TypeError:  # not weakly referenceable: walk every time
        return tuple(sorted(_Walk(fn).found))


class _Walk:
    """Everything reachable from one function, each object visited once (so cycles end)."""

    def __init__(self, root: Callable[..., Any]) -> None:
        self.found: set[Entry] = {("python", f"{platform.python_implementation()} {platform.python_version()}", "")}
        self.found.update(("stepstone", version, "") for version in [distribution_version("stepstone")] if version)
        self.seen: dict[int, object] = {id(root): root}  # id -> object, kept alive so that no id is reused
        self.todo: list[object] = [root]
        while self.todo:
            self.process(self.todo.pop(), root)

    def visit(self, obj: object) -> None:
        if obj is not _MISSING and id(obj) not in self.seen:
            self.seen[id(obj)] = obj
            self.todo.append(obj)

    def reference(self, obj: object, label: str | None) -> None:
        """``obj`` is what a name resolved to; ``label`` names it when it is a project global."""
        simple = isinstance(obj, CONSTANTS) or (isinstance(obj, tuple) and all(isinstance(o, CONSTANTS) for o in obj))
        if not simple:
            self.visit(obj)
        elif label is not None:
            self.found.add(("constant", label, content_hash(repr(obj).encode())))

    def process(self, obj: object, root: object) -> None:
        if isinstance(obj, types.FunctionType):
            if obj is root or self.record(obj.__module__):
                self.walk_function(obj)
        elif inner := _functions_in(obj):  # a method, property, partial, staticmethod
            for fn in inner:
                self.visit(fn)
        elif isinstance(obj, type):
            if self.record(obj.__module__):
                self.walk_class(obj)
        elif isinstance(obj, types.ModuleType | types.BuiltinFunctionType):
            self.record(obj.__name__ if isinstance(obj, types.ModuleType) else obj.__module__ or "builtins")
        else:  # an instance: its class, and what it wraps (a @step, functools.wraps)
            self.visit(inspect.getattr_static(obj, "__wrapped__", _MISSING))
            self.visit(type(obj))

    def record(self, module: str) -> bool:
        """Note the distributions behind ``module``; True when it is the project's (to walk)."""
        kind, names = _origin(module or "")
        self.found.update(("distribution", f"{name}=={distribution_version(name) or '?'}", "") for name in names)
        return kind == "project"

    def walk_function(self, fn: types.FunctionType) -> None:
        label = f"{fn.__module__}:{fn.__qualname__}"
        self.found.add(("function", label, content_hash(_source(fn).encode())))
        self.walk_body(fn, label)
        for index, value in enumerate((*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values())):
            self.reference(value, f"{label}.<default {index}>")
        self.visit(getattr(fn, "__wrapped__", _MISSING))

    def walk_class(self, cls: type) -> None:
        self.found.add(("class", f"{cls.__module__}:{cls.__qualname__}", content_hash(_source(cls).encode())))
        for value in (*cls.__bases__, *(value for _, value in sorted(vars(cls).items()))):
            if isinstance(value, type):
                self.visit(value)  # a base, or a class inside this one
            for fn in _functions_in(value):  # a method is in its class's source: walked, no entry of its own
                self.walk_body(fn, f"{cls.__module__}:{fn.__qualname__}")

    def walk_body(self, fn: types.FunctionType, label: str) -> None:
        self.walk_code(fn.__code__, fn.__globals__, {})
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
            with contextlib.suppress(ValueError):  # an empty cell
                self.reference(cell.cell_contents, f"{label}.{name}")

    def walk_code(self, code: types.CodeType, scope: dict[str, Any], bound: dict[str, object]) -> None:
        """Follow the globals ``code`` loads, the attribute chains on them (``a.b.c``) and its imports."""
        if id(code) in self.seen:
            return
        self.seen[id(code)] = code
        owner = scope.get("__name__")
        project = isinstance(owner, str) and _origin(owner)[0] == "project"
        current: object = None  # what the attribute chain so far resolved to (None: no chain)
        importing: object = None  # the module an import inside the function pushed, for IMPORT_FROM
        last: object = None  # what that import made, for the STORE that binds it to a local name
        instructions = list(dis.get_instructions(code))
        for at, ins in enumerate(instructions):
            op, arg, chain, current = ins.opname, ins.argval, current, None
            made, last = last, (last if op == "POP_TOP" else None)
            if op in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(arg, str):
                current = scope.get(arg, _MISSING)
                self.reference(current, f"{owner}:{arg}" if project else None)
            elif op in ("LOAD_ATTR", "LOAD_METHOD") and isinstance(arg, str) and chain is not None:
                current = inspect.getattr_static(chain, arg, _MISSING)
                in_project = isinstance(chain, types.ModuleType) and _origin(chain.__name__)[0] == "project"
                self.reference(current, f"{getattr(chain, '__name__', '')}:{arg}" if in_project else None)
            elif op.startswith(("LOAD_FAST", "LOAD_DEREF")) and isinstance(arg, str):
                current = bound.get(arg)
            elif op == "IMPORT_NAME":
                self.visit(sys.modules.get(arg, _MISSING))
                fromlist = instructions[at - 1].argval  # `import a.b` pushes a; `from a.b import c`, a.b
                importing = last = sys.modules.get(arg if fromlist else arg.partition(".")[0])
            elif op == "IMPORT_FROM":
                last = (inspect.getattr_static(importing, arg, None)
                        or sys.modules.get(f"{getattr(importing, '__name__', '')}.{arg}"))
                self.reference(last, None)
            elif op.startswith("STORE_") and isinstance(arg, str) and made is not None:
                bound[arg] = made
        for const in code.co_consts:
            if isinstance(const, types.CodeType):  # nested functions, lambdas, comprehensions
                self.walk_code(const, scope, bound)


def _functions_in(value: object) -> list[types.FunctionType]:
    """The plain functions behind a function, method, property, partial or staticmethod."""
    if isinstance(value, property):
        inner: list[object] = [value.fget, value.fset, value.fdel]
    else:
        inner = [value.__func__ if isinstance(value, staticmethod | classmethod | types.MethodType) else
                 value.func if isinstance(value, functools.partial | functools.cached_property) else value]
    return [fn for fn in inner if isinstance(fn, types.FunctionType)]


def _source(obj: types.FunctionType | type) -> str:
    try:
        return inspect.getsource(obj)
    except Exception:  # OSError, TypeError; or a class finder that cannot parse the file
        functions = _functions_in(obj) or [fn for _, v in sorted(vars(obj).items()) for fn in _functions_in(v)]
        return "\n".join(_code_text(fn.__code__) for fn in functions)


def _code_text(code: types.CodeType) -> str:
    """A code object without its source: bytes, names and constants, with no addresses in it."""
    consts = ",".join(_code_text(c) if isinstance(c, types.CodeType) else
                      "frozenset(" + ",".join(sorted(map(repr, c))) + ")" if isinstance(c, frozenset) else repr(c)
                      for c in code.co_consts)
    return f"{code.co_code.hex()}|{','.join(code.co_names)}|{consts}"


@functools.cache
def _origin(module: str) -> tuple[str, tuple[str, ...]]:
    """(``project`` | ``stepstone`` | ``stdlib`` | ``installed``, the distributions behind ``module``)."""
    if (top := module.partition(".")[0]) in STEPSTONE_PACKAGES:
        return "stepstone", ()
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None) or next(iter(getattr(loaded, "__path__", ())), None)
    if not path:  # built in, made at run time, or a namespace package
        if top in sys.stdlib_module_names or top in sys.builtin_module_names:
            return "stdlib", ()
        return ("installed", _packages()[top]) if top in _packages() else ("project", ())
    path = os.path.realpath(path)
    root = path.rsplit(os.sep, 1 + module.count(".") + os.path.basename(path).startswith("__init__."))[0]  # on sys.path
    site_folders, stdlib_folders = _folders()
    if path.startswith(site_folders) or _installed_into(root, top):  # first: a venv's site folder is in stdlib's
        return "installed", _packages().get(top, ())
    return ("stdlib", ()) if path.startswith(stdlib_folders) else ("project", ())


@functools.cache
def _packages() -> dict[str, tuple[str, ...]]:
    """Top-level name -> distributions; this reads every RECORD, so only once an installed module is met."""
    return {top: tuple(sorted(set(names))) for top, names in importlib.metadata.packages_distributions().items()}


@functools.cache
def _folders() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The site folders and the standard library's, as real paths that end in a separator."""
    paths = sysconfig.get_paths()
    found = [paths["purelib"], paths["platlib"], *getattr(site, "getsitepackages", list)()]
    found += [entry for entry in sys.path if os.path.basename(entry) in ("site-packages", "dist-packages")]
    stdlib = [os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib") if key in paths]
    return tuple(os.path.join(os.path.realpath(p), "") for p in found), tuple(os.path.join(p, "") for p in stdlib)


@functools.cache
def _installed_into(folder: str, top: str) -> bool:
    """Whether a distribution installed ``top`` into ``folder`` (``pip install --target``: a RECORD beside it)."""
    return any(line.startswith((f"{top}/", f"{top}.")) for record in Path(folder).glob("*.dist-info/RECORD")
               for line in record.read_text(errors="replace").splitlines())
