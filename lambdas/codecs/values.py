"""A step's value to its skeleton and back (the design is ``compiler.protocol.codecs``').

:func:`store_value` walks a value: JSON parts stay JSON; each part carried by reference (a
DataFrame, an array, a model, a file) is encoded, written to the store under the attempt's
``values/`` (``compiler.protocol.values.value_key``) and replaced by its reference. A part
the annotation gives a codec goes by that codec; an unannotated one by
:func:`~lambdas.codecs.registry.codec_for_value`. :func:`load_value` walks the skeleton
back: each reference read, checked against its content hash and decoded as its
annotation asks; a mixed record built again as its class (a dataclass, a pydantic model,
a NamedTuple, a TypedDict); JSON validated against its annotation (pydantic) as before.
"""

from __future__ import annotations

import collections
import dataclasses
import inspect
import os
import types
import typing
from collections import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, Union, get_args, get_origin

from compiler.dsl.artifacts import Artifact
from compiler.protocol.carriers import codec_for_annotation
from compiler.protocol.codecs import (
    DYNAMIC,
    FILE,
    FOLDER,
    JSON,
    MIXED,
    codec_spec,
    qualified_names,
    record_fields,
    tuple_fields,
)
from compiler.protocol.encoding import content_hash
from compiler.protocol.values import ValuePath, ValueRef, is_value_ref, value_key

from ..errors import CodecError
from ..serialize import from_json
from .artifacts import Source, file_suffix, media_type_of
from .builtin import json_value
from .registry import codec_for_value, encode, instance_fields
from .registry import decode as decode_bytes

__all__ = ["Sink", "StoredValue", "load_value", "store_value"]

JSON_VALUE: TypeAlias = Any
_EMPTY: Any = inspect.Parameter.empty
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping, collections.OrderedDict, collections.defaultdict)


class Sink(Protocol):
    def write(self, key: str, data: bytes, *, if_absent: bool = False) -> bool: ...


@dataclass(frozen=True, slots=True)
class StoredValue:
    """A value as it travels: its skeleton (JSON, what the envelope carries) and the parts
    written to the store, by their path in it (for lineage)."""

    skeleton: JSON_VALUE
    refs: tuple[tuple[ValuePath, ValueRef], ...]


def _where(path: ValuePath) -> str:
    return "the value" if not path else "the value's " + ".".join(str(p) for p in path)


def _plain(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and without ``None`` in an optional."""
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return _plain(rest[0])
    return annotation


def _item_annotation(annotation: Any, index: int | str) -> Any:
    """The annotation of one item (list, tuple position) or dict value of a container annotation."""
    plain = _plain(annotation)
    origin, args = get_origin(plain), get_args(plain)
    if origin is None or not args:
        return Any
    if origin in _MAPPINGS:
        return args[1] if len(args) == 2 else Any
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return args[index] if isinstance(index, int) and index < len(args) else Any
    return args[0]


def store_value(value: Any, annotation: Any = _EMPTY, *, store: Sink, prefix: str) -> StoredValue:
    """``value`` as its skeleton, its parts carried by reference written under ``prefix``
    (the attempt's folder: ``compiler.protocol.keys.attempt_prefix``)."""
    refs: list[tuple[ValuePath, ValueRef]] = []

    def put(node: Any, codec: str, path: ValuePath) -> JSON_VALUE:
        if codec in (FILE, FOLDER) and isinstance(node, (str, os.PathLike)) and not isinstance(node, Artifact):
            node = Artifact(node)  # `-> Artifact` that returned the path it wrote
        if codec == FILE and getattr(node, "is_folder", False):
            codec = FOLDER
        spec = codec_spec(codec)
        data = encode(node, codec)
        name = getattr(node, "name", None) if codec in (FILE, FOLDER) else None
        suffix = file_suffix(str(name)) if codec == FILE else spec.suffix
        key = value_key(prefix, path, suffix)
        store.write(key, data)
        ref = ValueRef(key=key, codec=codec, media_type=media_type_of(str(name)) if codec == FILE else spec.media_type,
                       hash=content_hash(data), bytes=len(data), type=qualified_names(type(node))[0],
                       name=None if name is None else str(name))
        refs.append((path, ref))
        return ref.encode()

    def walk(node: Any, annotation: Any, path: ValuePath) -> JSON_VALUE:
        if node is None:
            return None
        carrier = codec_for_annotation(annotation)
        if carrier.codec is None:
            raise CodecError(f"{_where(path)}: {carrier.problem}")
        if carrier.by_reference:
            return put(node, str(carrier.codec), path)
        chosen = codec_for_value(node)
        if chosen == JSON:
            return json_value(node)
        if chosen != MIXED:
            return put(node, chosen, path)
        fields = instance_fields(node)
        if fields is not None:
            hints = record_fields(type(node)) or {}
            return {name: walk(item, hints.get(name, Any), (*path, name)) for name, item in fields.items()}
        if isinstance(node, dict):
            wrong = next((k for k in node if not isinstance(k, str)), None)
            if wrong is not None:
                raise CodecError(f"{_where(path)} is a dict with values stored by reference and a key {wrong!r}: "
                                 "its keys name the stored values, so they must be strings")
            return {k: walk(item, _item_annotation(annotation, "value"), (*path, k)) for k, item in node.items()}
        positional = tuple_fields(type(node))  # a NamedTuple: its parts are stored under its field names
        if positional is not None:
            return [walk(item, hint, (*path, name)) for item, (name, hint) in zip(node, positional.items())]
        return [walk(item, _item_annotation(annotation, i), (*path, i)) for i, item in enumerate(node)]

    skeleton = walk(value, annotation, ())
    return StoredValue(skeleton, tuple(refs))


def _build(cls: Any, kwargs: dict[str, Any]) -> Any:
    """A mixed record made again from its decoded fields."""
    if "pydantic.main.BaseModel" in qualified_names(cls):
        return cls.model_validate(kwargs)
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        init = {f.name for f in dataclasses.fields(cls) if f.init}
        make: Any = cls
        return make(**{k: v for k, v in kwargs.items() if k in init})
    return dict(kwargs)  # a TypedDict


def load_value(skeleton: JSON_VALUE, annotation: Any = _EMPTY, *, store: Source, within: str | None = None) -> Any:
    """The value a skeleton stands for, as ``annotation`` (none: as it was stored, records as dicts).

    Every reference is read from ``store`` and checked against its content hash
    (:class:`~lambdas.errors.CorruptValueError` naming the key when it differs). With
    ``within`` (``runs/``, where steps write), a reference to a key outside it is refused:
    a skeleton only ever names what steps wrote.
    """

    def read(node: JSON_VALUE, annotation: Any) -> Any:
        ref = ValueRef.decode(node)
        if within is not None and not ref.key.startswith(within):
            raise CodecError(f"the stored value {ref.key!r} is outside {within!r}, where steps write: "
                             "it is not read")
        return decode_bytes(store.read(ref.key), ref.codec, annotation, key=ref.key, expected_hash=ref.hash,
                            name=ref.name)

    def untyped(node: JSON_VALUE) -> Any:  # references in parts no annotation describes: by their own codec
        if is_value_ref(node):
            return read(node, _EMPTY)
        if isinstance(node, dict):
            return {k: untyped(v) for k, v in node.items()}
        if isinstance(node, list):
            return [untyped(v) for v in node]
        return node

    def walk(node: JSON_VALUE, annotation: Any) -> Any:
        if is_value_ref(node):
            return read(node, annotation)
        if node is None:
            return None
        carrier = codec_for_annotation(annotation)
        if carrier.by_reference:
            raise CodecError(f"expected a stored {carrier.codec} value (a reference), got JSON {node!r:.80}")
        plain = _plain(annotation)
        if carrier.codec == MIXED and carrier.shape == "record" and isinstance(node, dict):
            hints = record_fields(plain) or {}
            return _build(plain, {k: walk(v, hints.get(k, Any)) for k, v in node.items()})
        if carrier.codec == MIXED and carrier.shape == "tuple" and isinstance(node, list):
            positional = tuple_fields(plain)
            hints_at = list(positional.values()) if positional is not None else list(get_args(plain))
            items = [walk(item, hints_at[i] if i < len(hints_at) else Any) for i, item in enumerate(node)]
            return plain(*items) if positional is not None else tuple(items)
        if carrier.codec == MIXED and carrier.shape == "list" and isinstance(node, list):
            items = [walk(item, _item_annotation(annotation, i)) for i, item in enumerate(node)]
            origin = get_origin(plain)
            make: Callable[[list[Any]], Any] = (origin if origin in (tuple, set, frozenset, collections.deque)
                                                else list)
            return make(items)
        if carrier.codec == MIXED and carrier.shape == "dict" and isinstance(node, dict):
            return {k: walk(v, _item_annotation(annotation, "value")) for k, v in node.items()}
        node = untyped(node)
        if carrier.codec == DYNAMIC:
            return node
        return from_json(node, annotation)

    return walk(skeleton, annotation)
