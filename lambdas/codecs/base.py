"""What every codec implementation is handed, how one loads the library it needs, and the
check of stored bytes against their content hash.

An optional library (pandas, pyarrow, numpy, torch) is imported by :func:`library`, inside
the function that encodes or decodes, the first time a value of its type appears: a step
that passes dicts never loads any of them (``tests/unit/test_codecs.py`` checks it).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from compiler.protocol.encoding import content_hash

from ..errors import CodecError, CorruptValueError

__all__ = ["Decoder", "Encoder", "Hints", "library", "verify"]


@dataclass(frozen=True, slots=True)
class Hints:
    """What a decoder may use besides the bytes: the annotation the value is read as
    (``inspect.Parameter.empty``: none), the key it was read from (for messages) and a file's
    or folder's own name."""

    annotation: Any = inspect.Parameter.empty
    key: str = ""
    name: str | None = None


Encoder: TypeAlias = Callable[[Any], bytes]
Decoder: TypeAlias = Callable[[bytes, Hints], Any]

_DISTRIBUTIONS = {"pyarrow.parquet": "pyarrow", "sklearn": "scikit-learn"}


def library(module: str, codec: str) -> Any:
    """``module``, imported now; a :class:`CodecError` that says what to install when it is not there."""
    try:
        return importlib.import_module(module)
    except ImportError:
        dist = _DISTRIBUTIONS.get(module, module.split(".")[0])
        raise CodecError(f"the {codec} codec needs {dist}, which is not installed here: add {dist} to the "
                         "packages of the steps that pass these values (pip install " + dist + ")") from None


def verify(data: bytes, *, key: str, expected_hash: str) -> None:
    """Raise :class:`CorruptValueError` (naming ``key``) unless ``data`` hashes to ``expected_hash``."""
    actual = content_hash(data)
    if actual != expected_hash:
        raise CorruptValueError(key, expected_hash, actual)
