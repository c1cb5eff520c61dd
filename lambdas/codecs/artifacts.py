"""Files and folders between steps: the runtime's side of ``compiler.dsl.artifacts.Artifact``.

A handle on a file is stored as the file's bytes (codec ``file``, its media type guessed
from its name); a handle on a folder as one tar archive of it (codec ``folder``), written
so that the same files make the same bytes, and so the same content hash: entries sorted,
times, owners and groups zeroed, modes 0644 (0755 when executable). A symbolic link to a
file is stored as the file it points to; a linked folder is not followed.

Reading one back (:func:`unpack_file`, :func:`unpack_folder`, or :func:`materialize` from a
reference) makes a local copy in a fresh temporary folder (or ``into``) and returns an
``Artifact`` on it. A folder is unpacked with tarfile's ``data`` filter: no absolute paths,
no ``..``, no links out of it, no devices.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Protocol

from compiler.dsl.artifacts import Artifact
from compiler.protocol.codecs import FILE, FOLDER
from compiler.protocol.values import ValueRef

from ..errors import CodecError
from .base import Hints, verify

__all__ = ["Source", "file_suffix", "materialize", "media_type_of", "pack_file", "pack_folder", "unpack_file",
           "unpack_folder"]

_SUFFIX = re.compile(r"^\.[A-Za-z0-9_-]{1,16}$")


class Source(Protocol):
    def read(self, key: str) -> bytes: ...


def _handle(value: Any, codec: str) -> Artifact:
    if not isinstance(value, Artifact):
        raise CodecError(f"the {codec} codec writes an Artifact (a handle on a file or folder), "
                         f"not {type(value).__qualname__}")
    return value


def pack_file(value: Any) -> bytes:
    artifact = _handle(value, FILE)
    if artifact.is_folder:
        raise CodecError(f"{artifact.path} is a folder: it is stored with the folder codec")
    try:
        return artifact.path.read_bytes()
    except OSError as exc:
        raise CodecError(f"the artifact {artifact.path} cannot be read: {exc.strerror or exc}") from None


def pack_folder(value: Any) -> bytes:
    artifact = _handle(value, FOLDER)
    root = artifact.path
    if not root.is_dir():
        raise CodecError(f"the artifact {root} is not a folder (any more): a step returns a handle on what it wrote")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            here = Path(folder)
            for name in dirs:
                if not (here / name).is_symlink():
                    tar.addfile(_info((here / name).relative_to(root).as_posix(), tarfile.DIRTYPE, 0o755, 0))
            for name in sorted(files):
                path = here / name
                if not path.is_file():  # a broken link, a socket
                    continue
                mode = 0o755 if os.access(path, os.X_OK) else 0o644
                with path.open("rb") as handle:
                    tar.addfile(_info(path.relative_to(root).as_posix(), tarfile.REGTYPE, mode,
                                      os.fstat(handle.fileno()).st_size), handle)
    return out.getvalue()


def _info(name: str, kind: bytes, mode: int, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size = kind, mode, size
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info


def _place(name: str | None, into: Path | None) -> Path:
    plain = Path(name or "").name
    if plain in ("", ".", ".."):
        plain = "artifact"
    folder = into if into is not None else Path(tempfile.mkdtemp(prefix="stepstone-artifact-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / plain


def unpack_file(data: bytes, hints: Hints, into: Path | None = None) -> Artifact:
    """A local copy of a stored file, as an ``Artifact``."""
    path = _place(hints.name, into)
    path.write_bytes(data)
    return Artifact(path, uri=hints.key or None)


def unpack_folder(data: bytes, hints: Hints, into: Path | None = None) -> Artifact:
    """A local copy of a stored folder (a tar archive), as an ``Artifact``."""
    path = _place(hints.name, into)
    path.mkdir()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            tar.extractall(path, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise CodecError(f"{hints.key}: not a folder's archive that can be unpacked safely ({exc})") from None
    return Artifact(path, uri=hints.key or None)


def file_suffix(name: str) -> str:
    """The suffix a stored file keeps (``.html`` of ``report.html``), or ``.bin``."""
    suffix = Path(name).suffix
    return suffix if _SUFFIX.match(suffix) else ".bin"


def media_type_of(name: str) -> str:
    """A file's media type, by its name (``application/octet-stream`` when unknown)."""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def materialize(ref: ValueRef, store: Source, *, into: Path | None = None) -> Artifact:
    """The file or folder ``ref`` stands for, copied from the store to a local path (checked
    against its content hash first), as an ``Artifact``."""
    if ref.codec not in (FILE, FOLDER):
        raise CodecError(f"{ref.key} is a {ref.codec} value, not a file or folder")
    data = store.read(ref.key)
    verify(data, key=ref.key, expected_hash=ref.hash)
    hints = Hints(key=ref.key, name=ref.name)
    return unpack_file(data, hints, into) if ref.codec == FILE else unpack_folder(data, hints, into)
