"""A run's parameters: checked against the workflow's types before any run starts.

A run's input is a JSON object of the workflow's parameters, kept in clear in the run's
execution history. It must fit the declared types (pydantic checks them, defaults filled
in), hold only JSON (no NaN), stay small (:data:`PARAMS_MAX_BYTES`: the compiler plans
every state's size with it) and hold nothing that looks like a credential.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .credentials import credential_in, credential_name
from .errors import CompileError, Location, ParamsError

__all__ = ["PARAMS_MAX_BYTES", "check_param_type", "holds_as_json", "params_not_valid", "problem_lines",
           "validate_params"]


def validate_params(workflow: str, model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` checked against ``model`` (the parameters of ``workflow``), defaults filled in,
    as JSON values; :class:`ParamsError` lists every problem."""
    refused = _secrets_in(model, data)
    if refused:
        raise ParamsError(workflow, refused)
    unknown = _unknown_params(model, data)
    try:
        checked = model.model_validate(dict(data))
    except ValidationError as exc:
        errors = [line for e, line in zip(exc.errors(), problem_lines(exc), strict=True)
                  if not (e["type"] == "extra_forbidden" and len(e["loc"]) == 1)]  # said by `unknown`
        raise ParamsError(workflow, unknown + errors) from None
    document: dict[str, Any] = checked.model_dump(mode="json")
    problems = unknown + _not_json(document)
    if problems:
        raise ParamsError(workflow, problems)
    return document


def problem_lines(exc: ValidationError, where: tuple[str | int, ...] = ()) -> list[str]:
    """Each problem pydantic found, as the command line says it: ``min_auc: Input should be a
    valid number`` (``where`` goes before the place pydantic names)."""
    return [f"{'.'.join(str(p) for p in (*where, *e['loc'])) or '(input)'}: {e['msg']}" for e in exc.errors()]


def params_not_valid(workflow: str, problems: list[str]) -> str:
    """The one line the command line prints for parameters that do not validate (a run
    started without it gets the same words as its failure's cause)."""
    return f"parameters of {workflow!r} do not validate: " + "; ".join(problems)


def holds_as_json(annotation: Any) -> bool:
    """Whether a run's input (JSON) can hold a parameter of this type: pydantic knows it. One
    it does not (a DataFrame, a fitted model, a record holding one) only a calling workflow
    can pass, as its step's result (``compiler/parse`` checks that something carries it)."""
    from pydantic import TypeAdapter
    from pydantic.errors import PydanticSchemaGenerationError

    try:
        TypeAdapter(annotation)
    except PydanticSchemaGenerationError:
        return False
    return True


def check_param_type(workflow: str, location: Location, name: str, annotation: Any, problem: str | None) -> None:
    """A parameter's type must be one a run's input (JSON) holds, or a step result carries
    (``problem`` says why none does). ``annotation`` may be the type as written."""
    if problem is None:
        return
    type_name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None) or str(
        annotation)
    raise CompileError(
        f"parameter {name!r} of workflow {workflow!r} is typed {type_name}, which neither a run's input (JSON) nor "
        f"a step result can hold: {problem}", rule="bad-parameters", location=location,
        hint="use str, int, float, bool, lists and dicts of them, a pydantic model, or a value steps pass (a "
             "DataFrame, an array, a model); build other objects inside a step")


PARAMS_MAX_BYTES = 16 * 1024
"""The largest run input (workflow parameters, as JSON) a run may start with: the compiler
plans every state's size with it, so it is checked before a run starts."""


def _unknown_params(model: type[BaseModel], data: Mapping[str, Any]) -> list[str]:
    """Names in ``data`` that are not parameters, so a typo is not silently dropped (unless
    the model says ``extra="allow"`` or ``"ignore"`` itself)."""
    if model.model_config.get("extra") in ("allow", "ignore"):
        return []
    known: set[str] = set()
    for name, info in model.model_fields.items():
        known |= {name, *(a for a in (info.alias, info.validation_alias) if isinstance(a, str))}
    found = []
    for name in data:
        if name not in known:
            close = difflib.get_close_matches(str(name), sorted(known), n=1)
            found.append(f"{name}: not a parameter of this workflow"
                         + (f" (did you mean {close[0]!r}?)" if close else f" (it has: {', '.join(sorted(known))})"))
    return found


def _not_json(document: Any) -> list[str]:
    """Why a run input cannot travel as JSON to Step Functions: NaN or infinity in it, or its size."""
    found: list[str] = []

    def visit(value: Any, path: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            found.append(f"{path or '(input)'}: {value} is not a JSON number; Step Functions refuses it")
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{path}.{index}" if path else str(index))

    visit(document, "")
    if not found:
        size = len(json.dumps(document, ensure_ascii=False).encode())
        if size > PARAMS_MAX_BYTES:
            found.append(f"(input): the parameters take {size:,} bytes as JSON, and a run's parameters may take at "
                         f"most {PARAMS_MAX_BYTES:,}; pass large data by reference (an S3 key), not by value")
    return found


_KEEP_OUT = ("a run's parameters are kept in clear in its execution history: keep it in Secrets Manager or "
             "Parameter Store, where the step that declares it as a Secret(...) reads it")


def _secrets_in(model: type[BaseModel], data: Mapping[str, Any]) -> list[str]:
    """Why ``data`` may not start a run: a parameter the workflow does not have, named like a
    credential (``-p password=...``), or a value in a credential's format."""
    found = []
    for name, value in data.items():
        named = credential_name(name) if name not in model.model_fields else None
        if named is not None:
            found.append(f"{name}: this looks like {named}, and {_KEEP_OUT}")
        held = credential_in(value)
        if held is not None:
            found.append(f"{name}: this holds what looks like {held}, and {_KEEP_OUT}")
    return found
