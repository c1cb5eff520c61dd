"""The built-in codecs' bytes: JSON, Parquet (pandas DataFrame and Series, pyarrow Table),
.npy (numpy arrays), torch (tensors and state dicts) and pickle. Files and folders are
``artifacts.py``'s.

- **json**: canonical JSON (``compiler.protocol.encoding.canonical``) of what pydantic makes
  of the value; numpy scalars become Python numbers. Read back as the annotated type.
- **parquet**: through pyarrow, with pandas' own metadata, so a DataFrame comes back with
  its index (a RangeIndex as one), column names and dtypes (nullable, categorical,
  time zones, NaN). A Series is a one-column frame whose metadata keeps its name; which of
  frame, series or table was stored is in the schema's ``stepstone`` metadata, and the
  annotation may ask for another (a stored Table read as ``pd.DataFrame``).
- **npy**: ``numpy.save`` / ``numpy.load`` with ``allow_pickle=False``: an array of Python
  objects is refused when written, never unpickled when read.
- **torch**: ``torch.save``; read with ``weights_only=True`` (tensors and containers of them
  only: no code runs) onto the CPU, so a tensor saved on a GPU opens in a Lambda function.
- **pickle**: protocol 5. Decoding a pickle runs code, so it happens only through
  ``lambdas.codecs.decode`` / ``load_pickle``, after the bytes' content hash matched the
  recorded one.
"""

from __future__ import annotations

import inspect
import io
import json
import pickle
from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python

from compiler.protocol.codecs import NPY, PARQUET, TORCH, qualified_names
from compiler.protocol.encoding import canonical

from ..errors import CodecError
from ..serialize import from_json
from .base import Hints, library

__all__ = ["decode_json", "decode_npy", "decode_parquet", "decode_torch", "encode_json", "encode_npy",
           "encode_parquet", "encode_pickle", "encode_torch", "json_value", "unpickle"]

_META = b"stepstone"  # the parquet schema's metadata key: which of frame, series, table was stored


def _numbers(value: Any) -> Any:
    """pydantic's fallback for what it does not know: a numpy scalar is its Python number."""
    if "numpy.generic" in qualified_names(type(value)):
        return value.item()
    raise PydanticSerializationError(f"Unable to serialize unknown type: {type(value)}")


def json_value(value: Any) -> Any:
    """``value`` as JSON values (what the skeleton holds of it)."""
    try:
        return to_jsonable_python(value, fallback=_numbers)
    except PydanticSerializationError as exc:
        raise CodecError(f"the json codec cannot write {type(value).__qualname__}: {exc}") from None


def encode_json(value: Any) -> bytes:
    return canonical(json_value(value))


def _annotated(hints: Hints) -> bool:
    return hints.annotation not in (inspect.Parameter.empty, Any, object, None)


def decode_json(data: bytes, hints: Hints) -> Any:
    raw = json.loads(data)
    return from_json(raw, hints.annotation) if _annotated(hints) else raw


def _kind(names: tuple[str, ...]) -> str | None:
    if "pyarrow.lib.Table" in names:
        return "table"
    if "pandas.Series" in names or "pandas.core.series.Series" in names:
        return "series"
    if "pandas.DataFrame" in names or "pandas.core.frame.DataFrame" in names:
        return "frame"
    return None


def encode_parquet(value: Any) -> bytes:
    kind = _kind(qualified_names(type(value)))
    if kind is None:
        raise CodecError(f"the parquet codec writes pandas DataFrames and Series and pyarrow Tables, "
                         f"not {type(value).__qualname__}")
    pa = library("pyarrow", PARQUET)
    pq = library("pyarrow.parquet", PARQUET)
    meta: dict[str, Any] = {"kind": kind}
    try:
        if kind == "table":
            table = value
        elif kind == "series":
            meta["name"] = json_value(value.name)
            frame = value.to_frame(name="value" if value.name is None else str(value.name))
            table = pa.Table.from_pandas(frame, preserve_index=None)
        else:
            table = pa.Table.from_pandas(value, preserve_index=None)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise CodecError(f"the parquet codec cannot write this {kind}: {exc}; give each column one type "
                         "(df[col].astype(str), or a numeric dtype)") from None
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[_META] = json.dumps(meta).encode()
    sink = io.BytesIO()
    # dictionary pages only where values repeat (strings, categories): on floats and ids they
    # cost a third of the write and save nothing (benchmarks/value_store.py measured it)
    repeating = [field.name for field in table.schema
                 if pa.types.is_dictionary(field.type) or pa.types.is_string(field.type)
                 or pa.types.is_large_string(field.type) or pa.types.is_boolean(field.type)]
    pq.write_table(table.replace_schema_metadata(schema_meta), sink, use_dictionary=repeating or False)
    return sink.getvalue()


def _wanted(annotation: Any) -> str | None:
    """Which of frame, series or table an annotation asks for (None: what was stored)."""
    return _kind(qualified_names(annotation)) if isinstance(annotation, type) else None


def decode_parquet(data: bytes, hints: Hints) -> Any:
    library("pyarrow", PARQUET)
    pq = library("pyarrow.parquet", PARQUET)
    table = pq.read_table(io.BytesIO(data))
    schema_meta = dict(table.schema.metadata or {})
    meta = json.loads(schema_meta.pop(_META, b"{}"))
    stored = meta.get("kind", "frame")
    kind = _wanted(hints.annotation) or stored
    if kind == "table":
        return table.replace_schema_metadata(schema_meta or None)
    library("pandas", PARQUET)
    frame = table.to_pandas()
    if kind != "series":
        return frame
    series = frame.iloc[:, 0]
    series.name = meta.get("name") if stored == "series" else frame.columns[0]
    return series


def encode_npy(value: Any) -> bytes:
    np = library("numpy", NPY)
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    out = io.BytesIO()
    try:
        np.save(out, array, allow_pickle=False)
    except ValueError as exc:  # an object array: it would need pickle
        raise CodecError(f"the npy codec cannot write an array of dtype {array.dtype} ({exc}); convert it to a "
                         "numeric or string dtype, or return it unannotated (it is pickled)") from None
    return out.getvalue()


def decode_npy(data: bytes, hints: Hints) -> Any:
    np = library("numpy", NPY)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        raise CodecError(f"{hints.key}: not an .npy array without Python objects ({exc})") from None
    annotation = hints.annotation
    if isinstance(annotation, type) and "numpy.generic" in qualified_names(annotation) and array.ndim == 0:
        return array[()]  # an annotated numpy scalar (np.float32) comes back as one
    return array


def encode_torch(value: Any) -> bytes:
    torch = library("torch", TORCH)
    out = io.BytesIO()
    torch.save(value, out)
    return out.getvalue()


def decode_torch(data: bytes, hints: Hints) -> Any:
    torch = library("torch", TORCH)
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def encode_pickle(value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise CodecError(f"the pickle codec cannot write {type(value).__qualname__}: {exc}; return what the next "
                         "step needs to rebuild it, or register a codec for it") from None


def unpickle(data: bytes, hints: Hints) -> Any:
    """The pickle's value: only ever called after its content hash matched (``registry.decode``)."""
    return pickle.loads(data)  # its bytes' hash matched the one recorded when they were written
