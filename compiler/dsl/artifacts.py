"""``Artifact``: a file or a folder a step writes and a later step opens.

A step returns a handle on what it wrote (anywhere: a path of its choice, or a fresh one
from :meth:`Artifact.new_file` / :meth:`Artifact.new_folder`); the runner stores the file
(a folder as one tar archive) in the run's artifacts by reference, with its content hash
and lineage, and hands the next step an ``Artifact`` on a local copy::

    @step
    def train(data: pd.DataFrame) -> Artifact:
        out = Artifact.new_folder("model")
        model.save_pretrained(out.path)
        return out

    @step
    def evaluate(model: Artifact) -> float:
        loaded = AutoModel.from_pretrained(model.path)
        ...

An ``Artifact`` is ``os.PathLike``, so ``open(artifact)``, ``pd.read_csv(artifact)`` and
``Path(artifact)`` work. Called as plain Python (the workflow function run directly), it is
just the path. The runtime's side (storing it, and making a local copy of a stored one) is
``lambdas/codecs/artifacts.py``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["Artifact"]


class Artifact:
    """A handle on a file or a folder that passes from step to step.

    Attributes:
        path: Where it is on this machine.
        uri: Where the run's artifacts hold it (a key, an ``s3://`` URI), once it was stored;
            ``None`` for a handle the running step made.
    """

    __slots__ = ("path", "uri")

    def __init__(self, path: str | os.PathLike[str], *, uri: str | None = None) -> None:
        self.path = Path(path)
        self.uri = uri

    @classmethod
    def new_file(cls, name: str) -> Artifact:
        """A handle on a file ``name`` in a fresh temporary folder, for the step to write."""
        return cls(Path(tempfile.mkdtemp(prefix="stepstone-")) / _plain(name))

    @classmethod
    def new_folder(cls, name: str) -> Artifact:
        """A handle on a new, empty folder ``name`` in a fresh temporary folder, for the step to fill."""
        folder = Path(tempfile.mkdtemp(prefix="stepstone-")) / _plain(name)
        folder.mkdir()
        return cls(folder)

    @property
    def name(self) -> str:
        """The file's or folder's own name."""
        return self.path.name

    @property
    def is_folder(self) -> bool:
        return self.path.is_dir()

    def open(self, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """The file, opened (``mode`` as ``open``'s; a handle on a folder cannot be opened)."""
        if self.is_folder:
            raise IsADirectoryError(f"{self.path} is a folder: open one of its files(), or use .path")
        return open(self.path, mode, **kwargs)

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.path.read_text(encoding=encoding)

    def files(self) -> Iterator[Path]:
        """A folder's files (in its sub-folders too), as paths relative to it, sorted; a file's: its own name."""
        if not self.is_folder:
            yield Path(self.name)
            return
        yield from sorted(p.relative_to(self.path) for p in self.path.rglob("*") if p.is_file())

    def __fspath__(self) -> str:
        return str(self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Artifact) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        where = f", uri={self.uri!r}" if self.uri else ""
        return f"Artifact({str(self.path)!r}{where})"


def _plain(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"artifact name {name!r}: a plain file or folder name, such as 'model' or 'report.html'")
    return name
