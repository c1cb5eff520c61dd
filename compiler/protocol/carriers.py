"""How values of an annotation travel between steps: :func:`codec_for_annotation` reads a
type annotation (a class, or ``Optional``, unions, ``list[...]``, ``tuple[...]``,
``dict[...]``, ``Annotated``, ``Literal``, ``NewType``) into a :class:`Carrier`: one codec
(``parquet`` for ``pd.DataFrame``), JSON, a *mixed* record, list, tuple or dict whose rich
parts go by reference (the design is ``compiler.protocol.codecs``'), :data:`DYNAMIC` (the
value decides at run time) or nothing at all, with the reason, which the compiler reports.

Classes are matched by the names in their MRO (``compiler.protocol.codecs.codec_for_class``),
so nothing here imports pandas, numpy, torch or pydantic. The rules, in order: a codec that
names the class (user codecs first); a record (pydantic model, dataclass, TypedDict,
NamedTuple), JSON when every field is, mixed when one is carried by reference; a class
pydantic writes as JSON; any other class by pickle, unless pickle cannot hold it (an open
file, a lock, a class defined inside a function).
"""

from __future__ import annotations

import collections
import dataclasses
import inspect
import types
import typing
from collections import abc
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Union, get_args, get_origin

from .codecs import (
    DYNAMIC,
    JSON,
    MIXED,
    PICKLE,
    codec_for_class,
    codec_spec,
    is_json_class,
    pickle_problem,
    qualified_names,
    record_fields,
    registry_version,
    tuple_fields,
)

__all__ = ["Carrier", "codec_for_annotation"]


@dataclass(frozen=True, slots=True)
class Carrier:
    """How values of one annotation travel (see the module docstring).

    ``codec`` is a codec's name, :data:`MIXED` (a record, list, tuple or dict with parts
    carried by reference: ``shape`` says which; ``fields`` holds each field's or position's
    carrier, ``items`` the carrier of each item or dict value) or :data:`DYNAMIC`; None
    when nothing can carry it, and ``problem`` says why. ``optional``: None fits too.
    """

    codec: str | None
    problem: str | None = None
    shape: Literal["record", "list", "tuple", "dict"] | None = None
    fields: tuple[tuple[str, Carrier], ...] = ()
    items: Carrier | None = None
    optional: bool = False

    @property
    def by_reference(self) -> bool:
        """Whether the value is one stored blob (a codec other than JSON)."""
        return self.codec not in (None, JSON, MIXED, DYNAMIC)

    def field(self, name: str) -> Carrier | None:
        """A mixed record's field (a fixed tuple's position, ``"0"``...); None when it has none of that name."""
        return dict(self.fields).get(name)

    def describe(self) -> str:
        """Short words for messages and ``--explain``: ``parquet``, ``mixed record (table: parquet, auc: json)``."""
        if self.codec is None:
            return f"not carried ({self.problem})"
        if self.codec != MIXED:
            return self.codec
        if self.shape in ("list", "dict") and self.items is not None:
            return f"{'list' if self.shape == 'list' else 'dict'} of {self.items.describe()}"
        return f"mixed {self.shape} ({', '.join(f'{n}: {c.describe()}' for n, c in self.fields)})"


_JSON_CARRIER = Carrier(JSON)
_DYNAMIC_CARRIER = Carrier(DYNAMIC)

_ONE_SHOT = (abc.Iterator, abc.Generator, abc.AsyncIterator, abc.AsyncGenerator, abc.AsyncIterable,
             abc.Awaitable, abc.Coroutine)
_SEQUENCES = (list, set, frozenset, collections.deque, abc.Sequence, abc.MutableSequence, abc.Set,
              abc.MutableSet, abc.Collection, abc.Iterable)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping, collections.OrderedDict, collections.defaultdict)


def codec_for_annotation(annotation: Any) -> Carrier:
    """How values annotated ``annotation`` travel: a class, or ``Optional``, unions,
    ``list[...]``, ``tuple[...]``, ``dict[...]``, ``Annotated``, ``Literal``, ``NewType``.
    No annotation (``inspect.Parameter.empty``), ``Any`` and ``object`` are :data:`DYNAMIC`."""
    try:
        return _cached(annotation, registry_version())
    except TypeError:  # an annotation that cannot be hashed (rare): not cached
        return _classify(annotation, frozenset())


@lru_cache(maxsize=1024)
def _cached(annotation: Any, version: int) -> Carrier:
    return _classify(annotation, frozenset())


def _classify(ann: Any, seen: frozenset[type]) -> Carrier:
    if ann is None or ann is type(None):
        return _JSON_CARRIER
    if (ann is Any or ann is object or ann is inspect.Parameter.empty
            or isinstance(ann, (str, typing.ForwardRef, typing.TypeVar))):
        return _DYNAMIC_CARRIER
    origin = get_origin(ann)
    if origin is typing.Annotated:
        return _classify(get_args(ann)[0], seen)
    if origin in (Union, types.UnionType):
        return _union(get_args(ann), seen)
    if origin is Literal:
        return _JSON_CARRIER
    if isinstance(ann, typing.NewType):
        return _classify(ann.__supertype__, seen)
    if origin is not None:
        return _generic(ann, origin, get_args(ann), seen)
    if isinstance(ann, type):
        return _class(ann, seen)
    if isinstance(ann, (types.FunctionType, types.BuiltinFunctionType)):  # `-> threading.Lock` on 3.11
        name = f"{getattr(ann, '__module__', None) or ''}.{ann.__qualname__}".lstrip(".")
        return Carrier(None, problem=f"{name} is a function, not a class: its values (a lock, a handle) belong to "
                                     "the process that made them")
    return _DYNAMIC_CARRIER  # a special form this module does not know: the value decides


def _union(members: tuple[Any, ...], seen: frozenset[type]) -> Carrier:
    rest = [m for m in members if m is not type(None)]
    optional = len(rest) < len(members)
    carriers = [_classify(m, seen) for m in rest]
    bad = next((c for c in carriers if c.codec is None), None)
    if bad is not None:
        return bad
    if len(carriers) == 1:
        return dataclasses.replace(carriers[0], optional=carriers[0].optional or optional)
    if all(c.codec == JSON for c in carriers):
        return Carrier(JSON, optional=optional)
    return Carrier(DYNAMIC, optional=optional)  # DataFrame | ndarray: by the value, read by its reference


def _container(shape: Literal["list", "dict"], item: Carrier) -> Carrier:
    if item.codec is None:
        return item
    if item.codec in (JSON, DYNAMIC):
        return _JSON_CARRIER  # list[Any], dict[str, Any]: JSON, as ever (a rich value inside still goes by reference)
    return Carrier(MIXED, shape=shape, items=item)


def _generic(ann: Any, origin: Any, args: tuple[Any, ...], seen: frozenset[type]) -> Carrier:
    name = getattr(origin, "__name__", str(origin))
    if origin in _ONE_SHOT or origin is abc.Callable or origin is type:
        what = "a callable" if origin is abc.Callable else "a class" if origin is type else f"an {name}"
        return Carrier(None, problem=f"{what} cannot be stored for the next step; return the values it gives "
                                     "(a list, a dict, a record)")
    if origin in _SEQUENCES:
        return _container("list", _classify(args[0], seen) if args else _DYNAMIC_CARRIER)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _container("list", _classify(args[0], seen))
        parts = [(str(i), _classify(a, seen)) for i, a in enumerate(a for a in args if a != ())]
        bad = next((c for _, c in parts if c.codec is None), None)
        if bad is not None:
            return bad
        if all(c.codec in (JSON, DYNAMIC) for _, c in parts):
            return _JSON_CARRIER
        return Carrier(MIXED, shape="tuple", fields=tuple(parts))
    if origin in _MAPPINGS:
        key, value = args if len(args) == 2 else (Any, Any)
        values = _classify(value, seen)
        if values.by_reference and codec_spec(str(values.codec)).mappings:
            return Carrier(values.codec)  # a torch state dict: one file
        if values.by_reference or values.codec == MIXED:
            keys = _classify(key, seen)
            if not (key is str or key is Any or (keys.codec == JSON and _is_str_like(key))):
                return Carrier(None, problem=f"a dict of {values.describe()} values is stored as a JSON object of "
                                             "references, whose keys are strings; use dict[str, ...]")
        return _container("dict", values)
    if isinstance(origin, type):
        return _class(origin, seen)  # a generic class of the user's: MyBox[int]
    return _DYNAMIC_CARRIER


def _is_str_like(key: Any) -> bool:
    if get_origin(key) is Literal:
        return all(isinstance(v, str) for v in get_args(key))
    return isinstance(key, type) and "builtins.str" in qualified_names(key)


def _class(cls: type, seen: frozenset[type]) -> Carrier:
    if cls in seen:
        return _JSON_CARRIER  # a record that holds itself (a tree): its parts are classified where first met
    spec = codec_for_class(cls)
    if spec is not None:
        problem = pickle_problem(cls) if spec.name == PICKLE else None
        return Carrier(None, problem=problem) if problem else Carrier(spec.name)
    record, positional = record_fields(cls), tuple_fields(cls)
    fields = record if record is not None else positional
    if fields is not None:
        inner = seen | {cls}
        carriers = [(name, _classify(annotation, inner)) for name, annotation in fields.items()]
        for name, carrier in carriers:
            if carrier.codec is None:
                return Carrier(None, problem=f"field {name!r} of {cls.__name__}: {carrier.problem}")
        if all(c.codec in (JSON, DYNAMIC) for _, c in carriers):
            return _JSON_CARRIER
        return Carrier(MIXED, shape="record" if record is not None else "tuple", fields=tuple(carriers))
    if is_json_class(cls):
        return _JSON_CARRIER
    problem = pickle_problem(cls)
    return Carrier(None, problem=problem) if problem else Carrier(PICKLE)

