"""Codecs: which codec carries a value between steps, by its type. The contract the compiler
(at compile time, from annotations) and the step runner (at run time, from values) share.

**The codecs.** A codec turns values of some types into bytes of one media type, stored
under one file suffix:

=========  ===============================  ========  =============================================
name       media type                       suffix    carries
=========  ===============================  ========  =============================================
json       application/json                 .json     scalars, pydantic models, dataclasses,
                                                      TypedDicts, lists and dicts of them
parquet    application/vnd.apache.parquet   .parquet  pandas DataFrame and Series, pyarrow Table
npy        application/x-npy                .npy      numpy ndarray (and annotated numpy scalars)
torch      application/x-pytorch            .pt       torch Tensor, and state dicts (str -> Tensor)
pickle     application/x-python-pickle      .pkl      fitted scikit-learn estimators, and any other
                                                      class no other codec carries
file       application/octet-stream         (its own) an ``Artifact`` whose path is a file
folder     application/x-tar                .tar      an ``Artifact`` whose path is a folder
=========  ===============================  ========  =============================================

**Matching by name.** A codec names the classes it carries by their fully qualified names
(``"pandas.DataFrame"``, ``"numpy.ndarray"``, ``"sklearn.base.BaseEstimator"``); a class
matches when one of those names is in its MRO (``module.qualname`` of each base). So a
workflow file's annotations are classified from the classes it already imported, and this
module imports none of pandas, numpy, torch or pydantic (a pydantic model is known by
``pydantic.main.BaseModel`` in its MRO).

**A value's skeleton; mixed values.** Every value travels as JSON, its *skeleton*: its
JSON-able parts as themselves and each rich part (a DataFrame, an array, a model, a file)
replaced by a reference, ``{"stepstone_ref": {"codec", "key", "hash", ...}}``
(:class:`compiler.protocol.values.ValueRef`), to bytes that are always written to the
artifact store, never carried inline. The skeleton then travels as any JSON output does
(the envelope: inline when small, stored otherwise, its top-level scalars in ``fields``):

- ``-> pd.DataFrame``: the skeleton is one reference;
- ``-> Report``, a dataclass (pydantic model, TypedDict, NamedTuple) with ``table:
  pd.DataFrame`` and ``auc: float``, is **mixed**: its skeleton is ``{"table":
  {"stepstone_ref": {...}}, "auc": 0.93}``. The rich field is stored by reference and the
  scalar fields stay JSON, so ``if report.auc > 0.9`` is a Choice on ``fields.auc`` as for
  any record; the next step gets a ``Report`` back, its table read from the store;
- ``list[pd.DataFrame]``, ``dict[str, np.ndarray]``, ``tuple[Model, Metrics]``: a JSON
  array or object of references and JSON (a fan-out over a list of DataFrames hands each
  item its reference, a few hundred bytes);
- ``dict[str, torch.Tensor]``, a state dict, is one torch file: the torch codec carries
  mappings of tensors whole (:attr:`CodecSpec.mappings`).

``compiler.protocol.carriers.codec_for_annotation`` says which of these an annotation is, as
a ``Carrier``; the compiler refuses what it cannot carry (``Carrier.problem``). An annotation that says
nothing (none, ``Any``, ``object``, a union of rich types) is :data:`DYNAMIC`: the runner
picks a codec from the value itself and a reader decodes by the reference's codec.

**User codecs.** The protocol holds what both sides need, a codec's spec (name, media type,
suffix, the types it carries: :class:`CodecSpec`, :func:`register_codec_spec`); the runtime
holds how it encodes and decodes (``lambdas.codecs.register_codec`` registers both in one
call, so a workflow file that registers a codec at import has it when compiled and in the
running step alike). User codecs are matched before the built-in ones, the latest first:
registering ``csv`` for ``pandas.DataFrame`` stores DataFrames as CSV.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import CodecRegistrationError, UnknownCodecError

__all__ = [
    "ARTIFACT_TYPE",
    "BUILTIN_CODECS",
    "DYNAMIC",
    "FILE",
    "FOLDER",
    "JSON",
    "MIXED",
    "NPY",
    "PARQUET",
    "PICKLE",
    "TORCH",
    "CodecSpec",
    "codec_for_class",
    "codec_spec",
    "codec_specs",
    "is_json_class",
    "pickle_problem",
    "qualified_names",
    "record_fields",
    "register_codec_spec",
    "registry_version",
    "tuple_fields",
]

JSON = "json"
PARQUET = "parquet"
NPY = "npy"
TORCH = "torch"
PICKLE = "pickle"
FILE = "file"
FOLDER = "folder"
MIXED = "mixed"  # not a codec: a record, list or dict with parts carried by reference
DYNAMIC = "dynamic"  # not a codec: the annotation does not say; the value decides at run time

ARTIFACT_TYPE = "compiler.dsl.artifacts.Artifact"  # the DSL's file-or-folder handle

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,39}\Z")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z")
_SUFFIX = re.compile(r"^(\.[A-Za-z0-9_-]{1,16})?\Z")


_NAMES: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()


def qualified_names(cls: type) -> tuple[str, ...]:
    """``module.qualname`` of ``cls`` and of each class in its MRO, in MRO order."""
    try:
        return _NAMES[cls]
    except (KeyError, TypeError):  # not seen yet; or a class that takes no weak reference
        found = tuple(f"{k.__module__}.{k.__qualname__}" for k in getattr(cls, "__mro__", (cls,)))
    with contextlib.suppress(TypeError):
        _NAMES[cls] = found
    return found


@dataclass(frozen=True, slots=True)
class CodecSpec:
    """What the compiler and the runner both know of a codec (how it encodes is the runtime's).

    A class matches when one of ``types`` (fully qualified names) is in its MRO, or when
    ``predicate(cls)`` is true. ``mappings``: a ``dict[str, T]`` of a type this codec
    carries is one value of this codec (a torch state dict), not a JSON object of
    references. ``executes_code``: decoding can run code (pickle), so the runner decodes
    only bytes whose content hash matches the one recorded when they were written.
    """

    name: str
    media_type: str
    suffix: str
    types: tuple[str, ...] = ()
    predicate: Callable[[type], bool] | None = None
    mappings: bool = False
    executes_code: bool = False
    builtin: bool = False

    @property
    def by_reference(self) -> bool:
        """Whether its values are stored by reference (every codec's but JSON's)."""
        return self.name != JSON

    def matches(self, cls: type) -> bool:
        if self.types and not set(self.types).isdisjoint(qualified_names(cls)):
            return True
        if self.predicate is not None:
            try:
                return bool(self.predicate(cls))
            except Exception:  # a user's predicate that chokes on a class it was not written for
                return False
        return False


_BUILTIN: dict[str, CodecSpec] = {spec.name: spec for spec in (
    CodecSpec(JSON, "application/json", ".json", builtin=True),
    CodecSpec(PARQUET, "application/vnd.apache.parquet", ".parquet", builtin=True,
              types=("pandas.DataFrame", "pandas.core.frame.DataFrame", "pandas.Series",
                     "pandas.core.series.Series", "pyarrow.lib.Table")),
    CodecSpec(NPY, "application/x-npy", ".npy", types=("numpy.ndarray", "numpy.generic"), builtin=True),
    CodecSpec(TORCH, "application/x-pytorch", ".pt", types=("torch.Tensor", "torch._tensor.Tensor"), mappings=True,
              builtin=True),
    CodecSpec(PICKLE, "application/x-python-pickle", ".pkl", types=("sklearn.base.BaseEstimator",),
              executes_code=True, builtin=True),
    CodecSpec(FILE, "application/octet-stream", "", types=(ARTIFACT_TYPE,), builtin=True),
    CodecSpec(FOLDER, "application/x-tar", ".tar", builtin=True),  # chosen by the value: a handle on a folder
)}
BUILTIN_CODECS = tuple(_BUILTIN)
_MATCH_ORDER = tuple(_BUILTIN[name] for name in (TORCH, PARQUET, NPY, FILE, PICKLE))
_USER: dict[str, CodecSpec] = {}  # in registration order; matched latest first
_VERSION = [0]  # bumped by every registration: what was classified before may classify otherwise now


def register_codec_spec(spec: CodecSpec, *, replace: bool = False) -> CodecSpec:
    """Add a user codec's spec (``lambdas.codecs.register_codec`` calls this).

    Registering the same spec again (a module imported twice: by the compiler from its file
    and by the runner by name, a reload, a notebook) replaces it; a different codec under a
    name already taken is refused unless ``replace``."""
    where = f"codec {spec.name!r}"
    if not _NAME.match(spec.name):
        raise CodecRegistrationError(f"{where}: a codec name is 1 to 40 lower-case letters, digits, '_', '.' and "
                                     "'-', starting with a letter, such as 'csv' or 'polars-parquet'")
    if spec.name in _BUILTIN or spec.name in (MIXED, DYNAMIC):
        raise CodecRegistrationError(f"{where} is built in; give yours a name of its own (user codecs are matched "
                                     "first, so it still takes over the types it names)")
    if spec.name in _USER and not replace and not _same(_USER[spec.name], spec):
        raise CodecRegistrationError(f"{where} is registered already, with other types or "
                                     "another media type or suffix; give it another name, or pass replace=True")
    if not _MEDIA_TYPE.match(spec.media_type):
        raise CodecRegistrationError(f"{where}: media type {spec.media_type!r} is not type/subtype in lower case, "
                                     "such as 'text/csv' or 'application/x-mything'")
    if not _SUFFIX.match(spec.suffix):
        raise CodecRegistrationError(f"{where}: suffix {spec.suffix!r} is not '' or a dot and 1 to 16 letters, "
                                     "digits, '_' or '-', such as '.csv'")
    if not spec.types and spec.predicate is None:
        raise CodecRegistrationError(f"{where} names no types: pass types=[MyClass] (or fully qualified names) "
                                     "or predicate=lambda cls: ...")
    _USER.pop(spec.name, None)
    _USER[spec.name] = dataclasses.replace(spec, builtin=False)
    _VERSION[0] += 1
    return _USER[spec.name]


def _same(old: CodecSpec, new: CodecSpec) -> bool:
    """The same codec registered again (its predicate a new function object, from a module imported again)."""
    def plain(spec: CodecSpec) -> tuple[Any, ...]:
        test = spec.predicate
        where = None if test is None else (getattr(test, "__module__", None), getattr(test, "__qualname__", None))
        return spec.name, spec.media_type, spec.suffix, spec.types, spec.mappings, spec.executes_code, where
    return plain(old) == plain(new)


def codec_spec(name: str) -> CodecSpec:
    """The codec named ``name``; :class:`UnknownCodecError` when none is registered here."""
    spec = _USER.get(name) or _BUILTIN.get(name)
    if spec is None:
        raise UnknownCodecError(f"no codec named {name!r} is registered in this process: import the module that "
                                f"registers it (register_codec({name!r}, ...)) before reading its values")
    return spec


def registry_version() -> int:
    """A number that changes whenever a codec is registered (classifications cache on it)."""
    return _VERSION[0]


def codec_specs() -> tuple[CodecSpec, ...]:
    """Every codec, in the order classes are matched: user codecs (the latest first), then the built-in ones."""
    return (*reversed(_USER.values()), *_BUILTIN.values())


def codec_for_class(cls: type) -> CodecSpec | None:
    """The codec that names ``cls`` (or a base of it); None when none does (then JSON or pickle, by the rules)."""
    for spec in reversed(_USER.values()):
        if spec.matches(cls):
            return spec
    for spec in _MATCH_ORDER:
        if spec.matches(cls):
            return spec
    return None


# classes pydantic reads and writes as JSON (a base in the MRO is enough)
_JSON_CLASSES = frozenset({
    "builtins.str", "builtins.int", "builtins.float", "builtins.bool", "builtins.bytes", "builtins.bytearray",
    "builtins.NoneType", "builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset", "builtins.dict",
    "builtins.complex", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
    "uuid.UUID", "decimal.Decimal", "fractions.Fraction", "pathlib.PurePath", "enum.Enum", "re.Pattern",
    "collections.deque", "ipaddress._IPAddressBase",
})
_JSON_MODULES = ("pydantic", "pydantic_core", "annotated_types")  # pydantic's own types: SecretStr, AnyUrl...
# classes pickle cannot hold: a step could never pass them on
_UNPICKLABLE = frozenset({
    "_io._IOBase", "io.IOBase", "typing.IO", "_thread.lock", "_thread.RLock", "socket.socket",
    "sqlite3.Connection", "sqlite3.Cursor", "builtins.module", "builtins.generator", "builtins.coroutine",
    "builtins.function", "builtins.builtin_function_or_method", "threading.Thread", "subprocess.Popen",
})


def record_fields(cls: type) -> dict[str, Any] | None:
    """A record type's fields and their annotations, in order: a pydantic model, a dataclass
    or a TypedDict (a NamedTuple is a tuple: :func:`tuple_fields`); None for any other class."""
    model_fields = getattr(cls, "model_fields", None)
    if "pydantic.main.BaseModel" in qualified_names(cls) and isinstance(model_fields, dict):
        return {name: getattr(info, "annotation", Any) for name, info in model_fields.items()}
    if dataclasses.is_dataclass(cls):
        hints = _hints(cls)
        return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}
    if typing.is_typeddict(cls):
        return _hints(cls)
    return None


def tuple_fields(cls: type) -> dict[str, Any] | None:
    """A NamedTuple's fields and their annotations, in order; None for any other class."""
    names = getattr(cls, "_fields", None)
    if "builtins.tuple" not in qualified_names(cls) or not isinstance(names, tuple):
        return None
    hints = _hints(cls)
    return {name: hints.get(name, Any) for name in names}


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception:  # a forward reference this module cannot resolve: those fields say nothing
        return {k: Any if isinstance(v, str) else v for k, v in getattr(cls, "__annotations__", {}).items()}


def is_json_class(cls: type) -> bool:
    """Whether pydantic reads and writes instances of ``cls`` as JSON by itself (scalars,
    dates, UUIDs, enums, paths, pydantic's own types...; records are :func:`record_fields`')."""
    return cls.__module__.split(".")[0] in _JSON_MODULES or not _JSON_CLASSES.isdisjoint(qualified_names(cls))

def pickle_problem(cls: type) -> str | None:
    """Why pickle cannot carry instances of ``cls``, or None."""
    if not _UNPICKLABLE.isdisjoint(qualified_names(cls)):
        return (f"{cls.__name__} holds something of this process only (an open file, a lock, a connection), "
                "which no codec can store; return what the next step needs to open it again (a path, a URI)")
    if "<locals>" in cls.__qualname__:
        return (f"{cls.__name__} is defined inside a function, so pickle cannot import it where the value is "
                "read; define it at the top level of a module, or register a codec for it")
    return None
