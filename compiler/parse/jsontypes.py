"""What must travel, and how: a workflow's parameter defaults must be JSON (a schedule or a
trigger starts a run with them), and the values steps pass each other must have a codec
(``compiler.protocol.carriers``: JSON, Parquet, .npy, torch, pickle, files, or one the user
registered).

A default that does not fit its parameter's type, or that JSON cannot hold (``object()``,
``float("nan")``), would start runs that fail later, far from the line that caused it; a
step annotated with a type no codec can carry (an open file, a lock, a generator) fails on
every run. Both are CompileErrors at the line that says so.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from ..dsl.errors import CompileError, Location
from ..dsl.params import PARAMS_MAX_BYTES
from ..dsl.steps import StepDef
from ..dsl.workflows import WorkflowDef
from ..protocol.carriers import codec_for_annotation

__all__ = ["check_defaults", "check_step_types"]

_JSON_TYPES = "str, int, float, bool, None, lists and dicts of them, or a pydantic model or dataclass of them"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def check_step_types(step: StepDef[..., Any]) -> None:
    """Every annotated parameter and the result of ``step`` must have a codec (a caught
    error, ``e: Exception``, travels as the error's name and message and is exempt)."""
    annotations = dict(step.parameter_annotations())
    annotations["return"] = step.return_annotation
    for name, annotation in annotations.items():
        if annotation in (inspect.Parameter.empty, inspect.Signature.empty, None, type(None)):
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseException):
            continue
        problem = codec_for_annotation(annotation).problem
        if problem is not None:
            what = "returns" if name == "return" else f"takes {name}:"
            raise CompileError(
                f"step {step.name!r} {what} {_type_name(annotation)}, which cannot pass between steps: {problem}",
                rule="unserializable-type", location=step.location,
                hint="return what the next step needs to make it again (a path, a URI, the settings), or "
                     "register a codec for the type (stepstone.register_codec)")


def _default_nodes(fn_node: ast.FunctionDef) -> dict[str, ast.expr]:
    """Each parameter's default expression in the ``def`` line(s)."""
    args = fn_node.args
    positional = args.posonlyargs + args.args
    found = {arg.arg: default for arg, default in zip(positional[len(positional) - len(args.defaults):],
                                                      args.defaults)}
    found.update({arg.arg: default for arg, default in zip(args.kwonlyargs, args.kw_defaults) if default})
    return found


def _field_location(model: type[BaseModel], name: str) -> Location | None:
    """Where ``name: type = default`` is written in the model's class body."""
    try:
        lines, start = inspect.getsourcelines(model)
        file = inspect.getsourcefile(model)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    indent = len(lines[0]) - len(lines[0].lstrip())
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            target = node.value or node
            return Location(file or "?", start + target.lineno - 1, target.col_offset + indent + 1)
    return None


def _default_problem(annotation: Any, value: Any) -> str | None:
    """Why ``value`` cannot be the default of a parameter typed ``annotation``."""
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    except Exception:  # the type itself is the problem, said where the type is checked
        return None
    try:
        checked = adapter.validate_python(value)
    except ValidationError as exc:
        return f"does not fit the type {_type_name(annotation)}: {exc.errors()[0]['msg']}"
    try:
        document = adapter.dump_python(checked, mode="json")
        json.dumps(document, allow_nan=False)
    except PydanticSerializationError as exc:
        return f"cannot be written as JSON ({str(exc).splitlines()[0]})"
    except (TypeError, ValueError):
        return "is NaN or infinite, which JSON (and so a run's input) cannot hold"
    return None


def check_defaults(wf: WorkflowDef[..., Any], fn_node: ast.FunctionDef, where: Location) -> dict[str, Any]:
    """Each parameter default fits its type and is JSON, and together they fit in a run's input
    (a schedule or trigger starts runs with them, with no one there to pass others); the
    defaults, as JSON values."""
    model = wf.params_model
    nodes = _default_nodes(fn_node) if wf.model_param is None else {}
    file = where.file
    defaults: dict[str, Any] = {}
    locations: dict[str, Location] = {}
    for name, info in model.model_fields.items():
        if info.is_required():
            continue
        value = info.get_default(call_default_factory=True)
        node = nodes.get(name)
        location = (Location(file, node.lineno, node.col_offset + 1) if node is not None
                    else _field_location(model, name) or where)
        annotation: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        problem = _default_problem(annotation, value)
        if problem is not None:
            raise CompileError(f"the default of parameter {name!r}, {_short(value)}, {problem}",
                               rule="bad-default", location=location,
                               hint=f"give {name} a default of its type, made of {_JSON_TYPES} (or None, "
                                    f"annotated `{name}: ... | None = None`)")
        defaults[name] = TypeAdapter(annotation).dump_python(value, mode="json")
        locations[name] = location
    size = len(json.dumps(defaults, ensure_ascii=False).encode())
    if size > PARAMS_MAX_BYTES:
        largest = max(defaults, key=lambda n: len(json.dumps(defaults[n], ensure_ascii=False).encode()))
        raise CompileError(f"the parameter defaults of {wf.name!r} take {size:,} bytes as JSON ({largest!r} the "
                           f"most); a run's parameters may take at most {PARAMS_MAX_BYTES:,}", rule="bad-default",
                           location=locations[largest],
                           hint="pass large data by reference: a default S3 key or path, read by a step")
    return defaults
