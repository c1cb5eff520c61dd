"""What the compiler reads from type annotations: fields, scalar kinds, list bounds.

Conditions compile to typed Choice rules (NumericGreaterThan, StringEquals...), so the
compiler needs the type of ``quality.passed``; fan-outs choose an inline or a distributed
Map by how long a list can be (``Annotated[list[X], Field(max_length=16)]``). All of it
comes from the annotations users already write for pydantic.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import types
import typing
from collections import abc
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = [
    "UNKNOWN",
    "element_type",
    "field_annotation",
    "field_names",
    "is_list",
    "is_optional",
    "is_record",
    "is_scalar",
    "list_bound",
    "scalar_kind",
    "string_bound",
    "strip",
]

UNKNOWN: Any = typing.Any


def _unannotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    metadata: tuple[Any, ...] = ()
    while get_origin(annotation) is Annotated:
        args = get_args(annotation)
        annotation, metadata = args[0], metadata + tuple(args[1:])
    return annotation, metadata


def strip(annotation: Any) -> Any:
    """The annotation without ``Annotated[...]`` and without ``None`` in an optional."""
    annotation, _ = _unannotated(annotation)
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return strip(rest[0])
    return annotation


def is_optional(annotation: Any) -> bool:
    annotation, _ = _unannotated(annotation)
    return get_origin(annotation) in (Union, types.UnionType) and type(None) in get_args(annotation)


def is_record(annotation: Any) -> bool:
    """A type with named fields: a pydantic model, a dataclass or a TypedDict."""
    ann = strip(annotation)
    if not isinstance(ann, type):
        return False
    return issubclass(ann, BaseModel) or dataclasses.is_dataclass(ann) or typing.is_typeddict(ann)


def field_names(annotation: Any) -> tuple[str, ...]:
    ann = strip(annotation)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return tuple(ann.model_fields)
    if isinstance(ann, type) and dataclasses.is_dataclass(ann):
        return tuple(f.name for f in dataclasses.fields(ann))
    if typing.is_typeddict(ann):
        return tuple(typing.get_type_hints(ann))
    return ()


def field_annotation(annotation: Any, name: str) -> Any | None:
    """The annotation of field ``name`` of a record type; None when it has no such field;
    ``UNKNOWN`` when the type says nothing (``Any``, ``dict``)."""
    ann = strip(annotation)
    if ann is UNKNOWN or ann is None:
        return UNKNOWN
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        info = ann.model_fields.get(name)
        if info is None:
            return None
        field_ann = info.annotation
        if info.metadata:
            return Annotated[(field_ann, *info.metadata)]
        return field_ann
    if isinstance(ann, type) and (dataclasses.is_dataclass(ann) or typing.is_typeddict(ann)):
        hints = typing.get_type_hints(ann, include_extras=True)
        return hints.get(name)
    origin = get_origin(ann)
    if ann is dict or origin is dict or origin is typing.Mapping:
        args = get_args(ann)
        return args[1] if len(args) == 2 else UNKNOWN
    if isinstance(ann, type) and not is_scalar(ann) and not is_list(ann):
        return UNKNOWN
    return None


def scalar_kind(annotation: Any) -> Literal["numeric", "string", "boolean", "timestamp"] | None:
    """How a Choice rule compares values of this type, or None for non-scalars/unknown."""
    ann = strip(annotation)
    if get_origin(ann) is Literal:
        values = get_args(ann)
        kinds = {scalar_kind(type(v)) for v in values}
        return kinds.pop() if len(kinds) == 1 else None
    if not isinstance(ann, type):
        return None
    if issubclass(ann, bool):
        return "boolean"
    if issubclass(ann, enum.Enum):
        member_types = {type(m.value) for m in ann}
        if member_types == {str}:
            return "string"
        if member_types <= {int, float}:
            return "numeric"
        return None
    if issubclass(ann, (int, float)):
        return "numeric"
    if issubclass(ann, str):
        return "string"
    if issubclass(ann, datetime.datetime):
        return "timestamp"
    return None


def is_scalar(annotation: Any) -> bool:
    return scalar_kind(annotation) is not None or strip(annotation) is type(None)


def is_list(annotation: Any) -> bool:
    ann = strip(annotation)
    return ann in (list, tuple) or get_origin(ann) in (list, tuple, typing.Sequence, abc.Sequence)


def element_type(annotation: Any) -> Any:
    ann = strip(annotation)
    args = get_args(ann)
    if get_origin(ann) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    if args and get_origin(ann) is not tuple:
        return args[0]
    return UNKNOWN


def string_bound(annotation: Any) -> int | None:
    """The longest a string of this type may be (``Field(max_length=...)``, a Literal, an enum)."""
    ann = strip(annotation)
    if get_origin(ann) is Literal:
        return max(len(str(v)) for v in get_args(ann))
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return max(len(str(m.value)) for m in ann)
    return list_bound(annotation)


def list_bound(annotation: Any) -> int | None:
    """The most items a list of this type may hold, from ``Field(max_length=...)``,
    ``annotated_types.MaxLen`` or ``conlist``; None when the type does not say."""
    _, metadata = _unannotated(annotation)
    inner = annotation
    while get_origin(inner) is Annotated:
        inner = get_args(inner)[0]
    if get_origin(inner) in (Union, types.UnionType):
        for arg in get_args(inner):
            if arg is not type(None):
                bound = list_bound(arg)
                if bound is not None:
                    return bound
    for item in metadata:
        max_length = getattr(item, "max_length", None)
        if isinstance(max_length, int):
            return max_length
        for sub in getattr(item, "metadata", ()) or ():
            sub_max = getattr(sub, "max_length", None)
            if isinstance(sub_max, int):
                return sub_max
    return None
