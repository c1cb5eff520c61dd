"""No secret in a run's input or in the state machine: a workflow's parameters, their
defaults, schedule and trigger inputs and the body's literals all travel in clear (the
execution history, the definition, the schedule, the run record).

- ``secret-parameter``: a parameter, or a field of a parameter's model at any depth,
  named like a credential (``password``, ``api_key``, ``client_secret``...; the rule is in
  ``compiler/dsl/credentials.py``) that can hold text. A flag such as ``use_password: bool``
  or a number such as ``token_count: int`` holds no secret and passes.
- ``secret-literal``: a value in a well-known credential format (an AWS access key id, a
  private key, a GitHub or Slack token...) written in the workflow: a parameter's default,
  a schedule's or trigger's ``params``, or a literal in the body.

Both say what to write instead: a ``Secret`` declared by the step that reads it. Neither
message repeats the value.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import enum
import inspect
import textwrap
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from .. import typeinfo
from ..dsl.credentials import credential_in, credential_name
from ..dsl.errors import CompileError, Location
from ..ir import Approve, CallWorkflow, Copy, FanOut, If, LiteralValue, Node, Raise, Return, StepCall, Value
from ..plan import all_nodes, condition_values
from . import CheckContext, rule

PARAMETER_HINT = ("keep it in AWS Secrets Manager (or SSM Parameter Store) and let the step read it: "
                  "PASSWORD = Secret('prod/db-password') at module level, @step(secrets=[PASSWORD]) on the step, "
                  "PASSWORD.value() inside it")
LITERAL_HINT = ("move it to AWS Secrets Manager (or SSM Parameter Store), read it in the step with "
                "Secret('name').value() declared in @step(secrets=[...]), and revoke this one: it is in your source")
_NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class _Param:
    path: tuple[str, ...]  # ("request", "db", "password")
    annotation: Any
    default: Any  # _NO_DEFAULT when it has none
    location: Location

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def _holds_text(annotation: Any) -> bool:
    """Whether a value of this type could be a password (a bool, a number, a date or a fixed
    choice cannot)."""
    ann = typeinfo.strip(annotation)
    origin = get_origin(ann)
    if origin in (Union, types.UnionType):
        return any(_holds_text(a) for a in get_args(ann) if a is not type(None))
    if origin is Literal:
        return False
    fixed = (bool, int, float, datetime.date, datetime.time, datetime.timedelta, enum.Enum)
    return not (isinstance(ann, type) and issubclass(ann, fixed))


def _records_in(annotation: Any) -> Iterator[type]:
    """The record types (models, dataclasses, TypedDicts) a field's value is made of."""
    ann = typeinfo.strip(annotation)
    if typeinfo.is_record(ann):
        yield ann
        return
    for arg in get_args(ann):
        if arg is not type(None) and arg is not Ellipsis:
            yield from _records_in(arg)


def _class_lines(cls: type) -> dict[str, Location]:
    """Where each field of a record class is written."""
    try:
        lines, start = inspect.getsourcelines(cls)
        file = inspect.getsourcefile(cls) or "?"
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return {}
    found: dict[str, Location] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = Location(file, start + node.lineno - 1, node.col_offset + 1)
    return found


def _record_fields(cls: type) -> Iterator[tuple[str, Any, Any]]:
    """(name, annotation, default) of each field of a record class."""
    if issubclass(cls, BaseModel):
        for name, info in cls.model_fields.items():
            default = _NO_DEFAULT if info.is_required() or info.default_factory is not None else info.default
            yield name, typeinfo.field_annotation(cls, name), default
    elif dataclasses.is_dataclass(cls):
        for item in dataclasses.fields(cls):
            default = item.default if item.default is not dataclasses.MISSING else _NO_DEFAULT
            yield item.name, typeinfo.field_annotation(cls, item.name), default
    else:  # a TypedDict
        for name, annotation in typing.get_type_hints(cls, include_extras=True).items():
            yield name, annotation, _NO_DEFAULT


def _fields(cls: type, prefix: tuple[str, ...], fallback: Location, seen: frozenset[type]) -> Iterator[_Param]:
    if cls in seen:  # a model that contains itself
        return
    lines = _class_lines(cls)
    for name, annotation, default in _record_fields(cls):
        param = _Param((*prefix, name), annotation, default, lines.get(name, fallback))
        yield param
        for inner in _records_in(annotation):
            yield from _fields(inner, param.path, param.location, seen | {cls})


def parameters(context: CheckContext) -> Iterator[_Param]:
    """Every parameter of the workflow and every field inside one, with its default and line."""
    definition = context.definition
    if definition is None:
        return
    workflow = context.workflow
    if workflow.params.model_param is not None:
        yield from _fields(typeinfo.strip(definition.param_hints[workflow.params.model_param]),
                           (workflow.params.model_param,), workflow.location, frozenset())
        return
    from ..parse.context import load_body

    fn_node, file, _ = load_body(definition)
    lines = {arg.arg: Location(file, arg.lineno, arg.col_offset + 1)
             for arg in fn_node.args.args + fn_node.args.kwonlyargs}
    for name, param in definition.signature.parameters.items():
        annotation = definition.param_hints[name]
        default = _NO_DEFAULT if param.default is inspect.Parameter.empty else param.default
        found = _Param((name,), annotation, default, lines.get(name, workflow.location))
        yield found
        for inner in _records_in(annotation):
            yield from _fields(inner, found.path, found.location, frozenset())


@rule("secret-parameter")
def secret_parameter(context: CheckContext) -> Iterable[CompileError]:
    flagged: list[tuple[str, ...]] = []
    for param in parameters(context):
        if any(param.path[:len(above)] == above for above in flagged):
            continue  # inside a field already reported
        kind = credential_name(param.path[-1])
        if kind is None or not _holds_text(param.annotation):
            continue
        flagged.append(param.path)
        where = "parameter" if len(param.path) == 1 else "parameter field"
        yield CompileError(
            f"workflow {context.workflow.name!r} takes a {where} {param.dotted!r} that looks like {kind}; a run's "
            "parameters are kept in clear in its execution history, its run record and its schedules",
            rule="secret-parameter", location=param.location, hint=PARAMETER_HINT)


def _values(node: Node) -> Iterator[Value]:
    if isinstance(node, StepCall):
        yield from (value for _, value in node.args)
    elif isinstance(node, CallWorkflow):
        yield from (value for _, value in node.params)
    elif isinstance(node, (Copy, Return)) and node.value is not None:
        yield node.value
    elif isinstance(node, FanOut):
        yield node.items
        if node.result is not None:
            yield node.result
    elif isinstance(node, If):
        for branch in node.branches:
            yield from condition_values(branch.condition)


@rule("secret-literal")
def secret_literal(context: CheckContext) -> Iterable[CompileError]:
    workflow = context.workflow
    for param in parameters(context):
        if param.default is _NO_DEFAULT:
            continue
        kind = credential_in(param.default.model_dump(mode="json") if isinstance(param.default, BaseModel)
                             else param.default)
        if kind is not None:
            yield CompileError(
                f"the default of parameter {param.dotted!r} looks like {kind}; defaults go into every run's input, "
                "its schedules and trigger rules, in clear", rule="secret-literal", location=param.location,
                hint=LITERAL_HINT)
    for schedule in workflow.schedules:
        kind = credential_in(dict(schedule.params))
        if kind is not None:
            yield CompileError(f"the params of the schedule {schedule.expression} hold what looks like {kind}; a "
                               "schedule's input is stored in clear", rule="secret-literal",
                               location=schedule.location or workflow.location, hint=LITERAL_HINT)
    for trigger in workflow.triggers:
        kind = credential_in(dict(trigger.params))
        if kind is not None:
            yield CompileError(f"the params of this trigger hold what looks like {kind}; a trigger rule's input is "
                               "stored in clear", rule="secret-literal", location=trigger.location or workflow.location,
                               hint=LITERAL_HINT)
    for node in all_nodes(workflow.body):
        texts: list[Any] = [v.value for v in _values(node) if isinstance(v, LiteralValue)]
        if isinstance(node, Raise):
            texts.append(node.cause)
        elif isinstance(node, Approve):
            texts.append(node.message)
        kind = credential_in(texts)
        if kind is not None:
            yield CompileError(f"a value written here looks like {kind}; the workflow's literals are part of the "
                               "state machine's definition, in clear", rule="secret-literal",
                               location=node.location, hint=LITERAL_HINT)
