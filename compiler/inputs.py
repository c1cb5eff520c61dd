"""What a run's input must hold, however the run was started (the Step Functions console, an
SDK, a rule, ``stepstone run``): the parameters' defaults fill in what the input leaves out,
and each parameter must be there (when it has no default) and be of its JSON type.

This is the one home of that contract: the emitter compiles it into the first states of a
state machine (``compiler/asl/inputs.py``), and the local target applies it the same way
(:meth:`InputRules.checked`), with the same failure and the same words. The words are the
command line's (``compiler.dsl.params``): ``parameters of 'etl_s3' do not validate: key:
Input should be a valid string``. The first states check JSON types only (Choice rules can
say string, number, boolean, null, or none of them); what pydantic checks beyond that (an
integer that is not whole, a model's own validators) stays with the step runner.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections import abc
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from .dsl.params import params_not_valid, problem_lines
from .ir import Workflow
from .names import unique_name
from .plan import all_nodes

__all__ = ["INVALID_PARAMETER", "SCALARS", "InputRules", "JsonKind", "ParamCheck", "input_rules", "json_kinds",
           "kind_of"]

INVALID_PARAMETER = "stepstone.InvalidParameter"
"""The error of a run whose input misses a parameter or holds one of the wrong type."""

JsonKind = Literal["string", "number", "boolean", "null", "structure"]  # structure: an object or an array
SCALARS: tuple[JsonKind, ...] = ("string", "number", "boolean", "null")


@dataclass(frozen=True)
class ParamCheck:
    """What one parameter must be, and the failure (a Fail state) of a run where it is not."""

    name: str
    required: bool  # no default: the input must hold it
    kinds: frozenset[JsonKind] | None  # the JSON kinds it may have; None: any
    missing_state: str
    missing_cause: str
    wrong_state: str
    wrong_cause: str

    def problem(self, document: Mapping[str, Any]) -> tuple[str, str] | None:
        """(the Fail state, its cause) when ``document`` (defaults filled in) fails this check."""
        if self.name not in document:
            return (self.missing_state, self.missing_cause) if self.required else None
        if self.kinds is not None and kind_of(document[self.name]) not in self.kinds:
            return self.wrong_state, self.wrong_cause
        return None


@dataclass(frozen=True)
class InputRules:
    """A workflow's run-input contract: the defaults, then the checks, in parameter order."""

    workflow: str
    defaults: Mapping[str, Any]
    checks: tuple[ParamCheck, ...]
    merge_state: str
    merged_state: str  # the second Pass state, where the defaults are too large for one
    check_state: str

    @property
    def state_names(self) -> tuple[str, ...]:
        return (self.merge_state, self.merged_state, self.check_state,
                *(name for c in self.checks for name in (c.missing_state, c.wrong_state)))

    def with_defaults(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The input with every default it leaves out (what it holds wins, the trigger key too)."""
        return {**self.defaults, **document}

    def first_problem(self, document: Mapping[str, Any]) -> tuple[str, str] | None:
        """(Fail state, cause) of the first check ``document`` (defaults filled in) fails, as the
        Choice state finds it; None when the run may start."""
        for check in self.checks:
            found = check.problem(document)
            if found is not None:
                return found
        return None


def kind_of(value: Any) -> JsonKind:
    """The JSON kind of a value as Step Functions' type tests see it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "structure"


def _literal_kinds(values: Iterable[Any]) -> frozenset[JsonKind]:
    return frozenset(kind_of(v.value if isinstance(v, enum.Enum) else v) for v in values)


def json_kinds(annotation: Any) -> frozenset[JsonKind] | None:
    """The JSON kinds a parameter of type ``annotation`` may have; None when the type does not
    say (``Any``, dates, a type pydantic reads from several kinds): the step runner checks it."""
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if annotation is None or annotation is type(None):
        return frozenset({"null"})
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        found: set[JsonKind] = set()
        for member in get_args(annotation):
            kinds = json_kinds(member)
            if kinds is None:
                return None
            found |= kinds
        return frozenset(found)
    if origin is Literal:
        return _literal_kinds(get_args(annotation))
    if origin is not None:  # list[int], dict[str, float], tuple[...], Sequence[...]
        base = origin
    else:
        base = annotation
    if not isinstance(base, type):
        return None
    if issubclass(base, enum.Enum):
        return _literal_kinds(base)
    if base is bool:
        return frozenset({"boolean"})
    if base in (int, float):
        return frozenset({"number"})
    if issubclass(base, str):
        return frozenset({"string"})
    if issubclass(base, (bytes, bytearray)):
        return None
    if issubclass(base, (abc.Sequence, abc.Set, abc.Mapping, BaseModel)) or dataclasses.is_dataclass(base) \
            or typing.is_typeddict(base):
        return frozenset({"structure"})
    return None


_PROBES: tuple[tuple[JsonKind, Any], ...] = (("structure", []), ("boolean", True), ("number", 0), ("string", ""))


def _wrong_type_words(name: str, annotation: Any, kinds: frozenset[JsonKind]) -> list[str]:
    """What pydantic (and so the command line) says of a value of a kind ``annotation`` refuses."""
    for kind, probe in _PROBES:
        if kind in kinds:
            continue
        try:
            TypeAdapter(annotation).validate_python(probe)
        except ValidationError as exc:
            return problem_lines(exc, (name,))
        except Exception:
            break
    wanted = " or ".join(sorted(kinds))
    return [f"{name}: Input should be a JSON {wanted}"]


def _missing_words(model: type[BaseModel]) -> dict[str, str]:
    """What pydantic says of each required parameter an input leaves out (``day: Field required``)."""
    try:
        model.model_validate({})
    except ValidationError as exc:
        return {str(e["loc"][0]): line for e, line in zip(exc.errors(), problem_lines(exc), strict=True)
                if e["type"] == "missing" and len(e["loc"]) == 1}
    except Exception:
        pass
    return {}


def input_rules(workflow: Workflow) -> InputRules:
    """The run-input contract of ``workflow``, with the names of the states that carry it out
    (none taken by the workflow's own states)."""
    params = workflow.params
    taken = {node.name for node in all_nodes(workflow.body)}
    model = params.model
    fields = model.model_fields if isinstance(model, type) and issubclass(model, BaseModel) else {}
    missing = _missing_words(model) if fields else {}
    checks = []
    for name in params.names:
        annotation = params.annotations.get(name, Any)
        kinds = json_kinds(annotation)
        if kinds is not None and kinds >= {*SCALARS, "structure"}:
            kinds = None  # every kind will do
        required = name not in params.defaults
        if not required and kinds is None:
            continue
        info = fields.get(name)
        checked = annotation if info is None else (typing.Annotated[(info.annotation, *info.metadata)]
                                                    if info.metadata else info.annotation)
        checks.append(ParamCheck(
            name=name, required=required, kinds=kinds,
            missing_state=unique_name(f"parameter {name} missing", taken),
            missing_cause=params_not_valid(workflow.name, [missing.get(name, f"{name}: Field required")]),
            wrong_state=unique_name(f"parameter {name} of the wrong type", taken),
            wrong_cause=params_not_valid(workflow.name, _wrong_type_words(name, checked, kinds)
                                         if kinds is not None else [])))
    return InputRules(workflow=workflow.name, defaults=dict(params.defaults), checks=tuple(checks),
                      merge_state=unique_name("parameter defaults", taken),
                      merged_state=unique_name("parameter defaults merged", taken),
                      check_state=unique_name("check parameters", taken))
