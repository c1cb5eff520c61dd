"""The codecs' implementations, by name: encode a value to bytes, decode bytes to a value,
pick a codec for a value nothing annotated, and let users add their own.

The protocol (``compiler.protocol.codecs``) knows each codec's name, media type, suffix and
the types it carries; this module adds how it encodes and decodes. :func:`register_codec`
registers both, so a codec a workflow file registers is known to the compiler (which
imports the file) and to the running step (which imports it too) alike.

**Reading is checked.** :func:`decode` checks the bytes against the content hash it is
given and refuses them (:class:`~lambdas.errors.CorruptValueError`, naming the key) when
it differs; a codec whose decoding runs code (pickle: ``CodecSpec.executes_code``) is never
decoded without one. :func:`load_pickle` is that rule for the store's reader.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from compiler.protocol.codecs import (
    FILE,
    FOLDER,
    JSON,
    MIXED,
    NPY,
    PARQUET,
    PICKLE,
    TORCH,
    CodecSpec,
    codec_for_class,
    codec_spec,
    is_json_class,
    qualified_names,
    register_codec_spec,
)
from compiler.protocol.errors import UnknownCodecError

from ..errors import CodecError, CorruptValueError
from . import artifacts, builtin
from .base import Decoder, Encoder, Hints, verify

__all__ = ["Codec", "codec_for_value", "decode", "encode", "implementation", "instance_fields", "load_pickle",
           "register_codec"]


@dataclass(frozen=True, slots=True)
class Codec:
    """A codec: its spec (the protocol's) and how it encodes and decodes."""

    spec: CodecSpec
    encode: Encoder
    decode: Decoder


_IMPLEMENTATIONS: dict[str, Codec] = {
    name: Codec(codec_spec(name), encoder, decoder) for name, encoder, decoder in (
        (JSON, builtin.encode_json, builtin.decode_json),
        (PARQUET, builtin.encode_parquet, builtin.decode_parquet),
        (NPY, builtin.encode_npy, builtin.decode_npy),
        (TORCH, builtin.encode_torch, builtin.decode_torch),
        (PICKLE, builtin.encode_pickle, builtin.unpickle),
        (FILE, artifacts.pack_file, artifacts.unpack_file),
        (FOLDER, artifacts.pack_folder, artifacts.unpack_folder),
    )}


def _type_name(kind: type | str) -> str:
    return kind if isinstance(kind, str) else qualified_names(kind)[0]


def register_codec(name: str, media_type: str, suffix: str, *, encode: Callable[[Any], bytes],
                   decode: Callable[[bytes], Any], types: Iterable[type | str] = (),
                   predicate: Callable[[type], bool] | None = None, mappings: bool = False,
                   executes_code: bool = False, replace: bool = False) -> Codec:
    """Carry values of your own types between steps.

    Args:
        name: The codec's name, lower case (``"csv"``); lineage and ``stepstone artifacts`` show it.
        media_type: What its bytes are (``"text/csv"``).
        suffix: The stored file's suffix (``".csv"``), or ``""``.
        encode: The value to bytes.
        decode: Bytes back to the value.
        types: The classes it carries (subclasses too), or their fully qualified names
            (``"polars.dataframe.frame.DataFrame"``), so naming one needs no import.
        predicate: Or a test on a value's class.
        mappings: ``dict[str, T]`` of its types is one value of this codec, not a JSON object of references.
        executes_code: Decoding can run code (as pickle's does): it is read only after its
            content hash matched.
        replace: Replace a different codec registered under this name.

    Returns:
        The codec. Registered codecs are matched before the built-in ones, the latest first.

    Example:
        ```python
        register_codec("csv", "text/csv", ".csv", types=[pd.DataFrame],
                       encode=lambda df: df.to_csv().encode(),
                       decode=lambda data: pd.read_csv(io.BytesIO(data), index_col=0))
        ```
    """
    spec = register_codec_spec(CodecSpec(name, media_type, suffix, types=tuple(_type_name(t) for t in types),
                                         predicate=predicate, mappings=mappings, executes_code=executes_code),
                               replace=replace)
    codec = Codec(spec, encode, lambda data, hints: decode(data))
    _IMPLEMENTATIONS[spec.name] = codec
    return codec


def implementation(codec: str) -> Codec:
    """The codec named ``codec``, with its implementation; :class:`CodecError` when this process has none."""
    found = _IMPLEMENTATIONS.get(codec)
    if found is None:
        try:
            codec_spec(codec)
        except UnknownCodecError as exc:
            raise CodecError(str(exc)) from None
        raise CodecError(f"the codec {codec!r} is known here by name only: register it with "
                         "lambdas.codecs.register_codec (which gives encode and decode)")
    return found


def encode(value: Any, codec: str) -> bytes:
    """``value`` as the bytes of ``codec``; :class:`CodecError` when the codec cannot write it."""
    found = implementation(codec)
    try:
        return found.encode(value)
    except (CodecError, CorruptValueError):
        raise
    except Exception as exc:  # a library's own error, or a user codec's
        raise CodecError(f"the {codec} codec cannot write {type(value).__qualname__}: "
                         f"{type(exc).__name__}: {exc}") from exc


def decode(data: bytes, codec: str, annotation: Any = inspect.Parameter.empty, *, key: str = "",
           expected_hash: str | None = None, name: str | None = None) -> Any:
    """The value ``data`` (the bytes of ``codec``, read from ``key``) stands for, as ``annotation``.

    With ``expected_hash`` the bytes are checked first (:class:`CorruptValueError` when they
    differ); a codec whose decoding runs code is refused without one.
    """
    found = implementation(codec)
    where = key or "a stored value"
    if expected_hash:
        verify(data, key=where, expected_hash=expected_hash)
    elif found.spec.executes_code:
        raise CodecError(f"{where}: refusing to decode {codec} bytes without their content hash: decoding them runs "
                         "code, so they are read only from the run's own store after the hash lineage recorded "
                         "matches")
    try:
        return found.decode(data, Hints(annotation, key, name))
    except (CodecError, CorruptValueError):
        raise
    except Exception as exc:
        raise CodecError(f"{where}: the {codec} codec cannot read these bytes: {type(exc).__name__}: {exc}") from exc


def load_pickle(data: bytes, *, key: str, expected_hash: str) -> Any:
    """A stored pickle's value, only when ``data`` hashes to ``expected_hash`` (the hash lineage
    recorded when it was written): otherwise :class:`CorruptValueError` naming ``key``."""
    return decode(data, PICKLE, key=key, expected_hash=expected_hash)


_SCALARS = (str, int, float, bool, type(None))
_SEQUENCES = (list, tuple, set, frozenset, deque)


def instance_fields(value: Any) -> dict[str, Any] | None:
    """A record's fields and values (a dataclass instance, a pydantic model); None for any other value."""
    cls = type(value)
    if "pydantic.main.BaseModel" in qualified_names(cls):
        return {name: getattr(value, name) for name in getattr(cls, "model_fields", {})}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return None


def _parts(values: Iterable[Any]) -> str:
    for item in values:
        if type(item) in _SCALARS:
            continue
        if codec_for_value(item) != JSON:
            return MIXED
    return JSON


def codec_for_value(value: Any) -> str:
    """The codec a value nothing annotated travels by: a registered codec that names its
    class; JSON for JSON values (numpy scalars too: conditions test them), records and
    containers of them; :data:`~compiler.protocol.codecs.MIXED` for records and containers
    with a part that is not; pickle for any other object."""
    if isinstance(value, _SCALARS):
        return JSON
    cls = type(value)
    spec = codec_for_class(cls)
    if spec is not None:
        if spec.name == NPY and "numpy.generic" in qualified_names(cls):
            return JSON
        if spec.name == FILE and getattr(value, "is_folder", False):
            return FOLDER
        return spec.name
    if isinstance(value, dict):
        if value and all(isinstance(k, str) for k in value):
            first = codec_for_class(type(next(iter(value.values()))))
            if first is not None and first.mappings and all(codec_for_class(type(v)) is first for v in value.values()):
                return first.name  # a torch state dict: one file
        return _parts(value.values())
    if isinstance(value, _SEQUENCES):
        return _parts(value)
    fields = instance_fields(value)
    if fields is not None:
        return _parts(fields.values())
    if is_json_class(cls):
        return JSON
    return PICKLE

