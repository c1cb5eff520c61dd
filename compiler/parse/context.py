"""What the parser keeps while it reads one workflow body: source, names, bindings, scope."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

from ..dsl.errors import CompileError, Location
from ..dsl.quotas import STATE_NAME_LIMIT
from ..dsl.workflows import WorkflowDef
from ..ir import Binding, BindingKind, BindingRef, LiteralValue, ParamRef, StepInfo, Value
from ..names import unique_name

__all__ = ["Scope", "Unset", "VarInfo", "WorkflowContext", "load_body"]



def load_body(wf: WorkflowDef[..., Any]) -> tuple[ast.FunctionDef, str, list[str]]:
    """The workflow function's syntax tree, with line and column numbers of the file."""
    fn = wf.fn
    file = inspect.getsourcefile(fn) or fn.__code__.co_filename
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise CompileError(
            f"cannot read the source of workflow {wf.name!r}: {exc}",
            rule="no-source",
            location=wf.location,
            hint="stepstone compiles the workflow from its source file; define it in a .py file",
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = len(lines[0]) - len(lines[0].lstrip()) if dedented != text else 0
    tree = ast.parse(dedented)
    ast.increment_lineno(tree, start - 1)
    if indent:
        for node in ast.walk(tree):
            if hasattr(node, "col_offset"):
                node.col_offset += indent
    fn_node = tree.body[0]
    if not isinstance(fn_node, ast.FunctionDef):
        raise CompileError(f"workflow {wf.name!r} is not a plain function", rule="bad-workflow",
                           location=wf.location, hint="write `def name(...):` under @workflow")
    source_lines = Path(file).read_text(encoding="utf-8").splitlines() if file and not file.startswith("<") else []
    return fn_node, file, source_lines


@dataclass(frozen=True, slots=True)
class VarInfo:
    """What a variable in the workflow body holds at a point of the program."""

    value: Value
    kind: Literal["result", "results", "raw", "deferred", "param", "literal"]
    annotation: Any
    location: Location
    copied: bool = False  # put in place by a Copy (a Pass state), which can wrap it as a step result


@dataclass(frozen=True, slots=True)
class Unset:
    """A variable that cannot be used here, and why (assigned on one path only, in a loop...)."""

    why: str
    hint: str
    location: Location


class Scope:
    """Variables visible at a point of a workflow body. Copied into each branch."""

    def __init__(self, names: dict[str, VarInfo | Unset] | None = None) -> None:
        self.names: dict[str, VarInfo | Unset] = dict(names or {})

    def copy(self) -> Scope:
        return Scope(self.names)

    def get(self, name: str) -> VarInfo | Unset | None:
        return self.names.get(name)

    def set(self, name: str, info: VarInfo | Unset) -> None:
        self.names[name] = info


_NAME_CHARS = re.compile(r"[^A-Za-z0-9 _.()'=!+-]+")
_OPERATOR_WORDS = (
    (">=", " ge "), ("<=", " le "), ("==", " eq "), ("!=", " ne "), (">", " gt "), ("<", " lt "),
    ('"', "'"), ("[", "("), ("]", ")"), ("{", "("), ("}", ")"), (":", " "), (",", " "),
)


def state_name_from_source(text: str) -> str:
    """A readable state name from source text, in characters every AWS console accepts."""
    for old, new in _OPERATOR_WORDS:
        text = text.replace(old, new)
    text = _NAME_CHARS.sub("_", text)
    return " ".join(text.split())


@dataclass
class WorkflowContext:
    """Per-workflow parse state: the function, its names, bindings and state names."""

    wf: WorkflowDef[..., Any]
    file: str
    source_lines: list[str]
    bindings: dict[str, Binding] = field(default_factory=dict)
    state_names: set[str] = field(default_factory=set)
    steps: dict[str, StepInfo] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    assigned_at: dict[str, list[int]] = field(default_factory=dict)  # variable -> lines that assign it

    def note_assignments(self, fn_node: ast.FunctionDef) -> None:
        for node in ast.walk(fn_node):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                self.assigned_at.setdefault(node.id, []).append(node.lineno)

    @property
    def globals(self) -> dict[str, Any]:
        return self.wf.fn.__globals__

    def loc(self, node: ast.AST) -> Location:
        return Location(self.file, getattr(node, "lineno", self.wf.location.line),
                        getattr(node, "col_offset", -1) + 1)

    def fail(self, node: ast.AST, message: str, *, rule: str, hint: str | None = None) -> NoReturn:
        raise CompileError(message, rule=rule, location=self.loc(node), hint=hint)

    def source(self, node: ast.AST) -> str:
        return ast.unparse(node)

    # --- names ---------------------------------------------------------------------------

    def state_name(self, base: str) -> str:
        """A unique state name from ``base``; the second use of a name gets ``_2``."""
        return unique_name(base[: STATE_NAME_LIMIT - 4].rstrip() or "state", self.state_names)

    def new_key(self, base: str) -> str:
        """A unique binding key from a variable name (ASL paths need a letter first)."""
        return unique_name(re.sub(r"[^A-Za-z0-9_]", "_", base).lstrip("_0123456789") or "value", self.keys)

    def bind(self, key: str, var: str, kind: BindingKind, annotation: Any, location: Location,
             *, state: str | None = None, manifest: bool = False) -> Binding:
        binding = Binding(key=key, var=var, kind=kind, annotation=annotation, location=location, state=state,
                          manifest=manifest)
        self.bindings[key] = binding
        return binding

    def var_info(self, binding: Binding) -> VarInfo:
        return VarInfo(
            value=BindingRef(binding.key, (), binding.annotation),
            kind=binding.kind.value,
            annotation=binding.annotation,
            location=binding.location,
        )


def literal_info(value: Any, location: Location) -> VarInfo:
    return VarInfo(value=LiteralValue(value), kind="literal", annotation=type(value), location=location)


def param_info(path: tuple[str | int, ...], annotation: Any, location: Location, *, whole: bool = False,
               stored: bool = False) -> VarInfo:
    return VarInfo(value=ParamRef(path, annotation, whole_model=whole, stored=stored), kind="param",
                   annotation=annotation,
                   location=location)
