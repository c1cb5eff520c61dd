"""Codecs at run time: values to bytes and back (the contract, which codec carries which type,
is ``compiler.protocol.codecs`` and ``compiler.protocol.carriers``).

- ``registry``: :func:`encode`, :func:`decode` (checked against the content hash),
  :func:`load_pickle` (pickle's rule), :func:`codec_for_value`, :func:`register_codec`;
- ``values``: a step's value to its skeleton and the stored parts (:func:`store_value`) and back
  (:func:`load_value`);
- ``artifacts``: files and folders (``Artifact``), stored and made local again (:func:`materialize`);
- ``builtin``: the built-in codecs' bytes; ``base``: what they share.

pandas, pyarrow, numpy, torch and scikit-learn are imported inside the functions that need
them, when a value of theirs first appears: importing this package loads none of them.
"""

from __future__ import annotations

from .artifacts import materialize
from .base import Hints, verify
from .registry import Codec, codec_for_value, decode, encode, implementation, load_pickle, register_codec
from .values import StoredValue, load_value, store_value

__all__ = [
    "Codec",
    "Hints",
    "StoredValue",
    "codec_for_value",
    "decode",
    "encode",
    "implementation",
    "load_pickle",
    "load_value",
    "materialize",
    "register_codec",
    "store_value",
    "verify",
]
