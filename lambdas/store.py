"""The artifact store: where step outputs, lineage records and cache records live.

One interface, two back-ends with the same keys and the same bytes: a local folder (the
local target, ``.stepstone/``) and an S3 bucket (Lambda and Batch). Writes can be
conditional (``if_absent=True``): the first writer wins, which makes lineage and cache
records unique even when retries or concurrent runs race.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from compiler.protocol.codecs import codec_specs

from .errors import NotFoundError

__all__ = ["ArtifactStore", "LocalStore", "S3Store", "content_type"]


class ArtifactStore(Protocol):
    def read(self, key: str) -> bytes: ...

    def write(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Store ``data`` under ``key``; with ``if_absent``, only if nothing is there (returns whether it wrote)."""
        ...

    def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix``, sorted."""
        ...

    def location(self, key: str) -> str:
        """Where a person finds the artifact: a file path or an s3:// URI."""
        ...


class LocalStore:
    """Artifacts as files under ``root`` (the keys are relative paths)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)  # as given, for messages
        self._base = self.root.resolve()
        self._folders: set[str] = set()  # folders made by this store (a write makes its folder once)

    def _path(self, key: str) -> Path:
        # normpath, not resolve(): the check is about the key ("..", absolute paths), and it is
        # made for every read and write of a run
        path = os.path.normpath(os.path.join(self._base, key))
        if path != str(self._base) and not path.startswith(str(self._base) + os.sep):
            raise ValueError(f"artifact key {key!r} leaves the store")
        return Path(path)

    def _folder(self, path: Path) -> None:
        folder = str(path.parent)
        if folder not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFoundError(key) from None

    def write(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        path = self._path(key)
        self._folder(path)
        if not path.parent.is_dir():  # removed since (a test's clean-up, a person)
            self._folders.discard(str(path.parent))
            self._folder(path)
        if if_absent:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            return True
        # write then rename, so a reader never sees half a file (and Ctrl-C leaves none)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self._base
        folder = base if base.is_dir() else base.parent
        if not folder.exists():
            return []
        found = []
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                key = path.relative_to(self._base).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    def delete(self, keys: list[str]) -> int:
        """Remove these files (a cleared cache); how many there were."""
        removed = 0
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                self._path(key).unlink()
                removed += 1
        return removed

    def location(self, key: str) -> str:
        return str(self._path(key))


class S3Store:
    """Artifacts as objects in an S3 bucket (encrypted by the bucket's default)."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        if client is None:
            import boto3  # only here: the local target never needs boto3

            client = boto3.client("s3")
        self.client = client

    def read(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise NotFoundError(key) from None
        data: bytes = response["Body"].read()
        return data

    def write(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        extra = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type(key), **extra)
        except self.client.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if if_absent and code in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                return False
            raise
        return True

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFoundError"):
                return False
            raise
        return True

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    def delete(self, keys: list[str]) -> int:
        """Remove these objects (a cleared cache); how many."""
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def content_type(key: str) -> str:
    """The media type an object is stored with, by its key's suffix (what a browser or the
    S3 console shows; stepstone reads the codec from the reference, never from this)."""
    suffix = os.path.splitext(key)[1].lower()
    spec = next((spec for spec in codec_specs() if spec.suffix and spec.suffix == suffix), None)
    if spec is not None:  # a value a codec wrote: its codec's media type
        return spec.media_type
    return mimetypes.guess_type(key, strict=False)[0] or "application/octet-stream"
