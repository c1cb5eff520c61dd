"""The figures of the robustness tests (cases generated, faults injected, runs at once),
counted while they run and reported at the end of the session.

A test calls ``count("moto: generated workflows executed", 1)``; at the end pytest prints
the figures in a "reliability" section and writes them to ``build/reliability.json``,
which the README's "Reliability" section quotes. Only what really ran is counted: a
figure is added after the check it stands for has passed.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

__all__ = ["count", "figures", "write"]

_FIGURES: dict[str, int] = {}
_LOCK = threading.Lock()


def count(figure: str, amount: int = 1) -> None:
    """Add ``amount`` to ``figure`` (a phrase a reader understands: what was done, where)."""
    with _LOCK:
        _FIGURES[figure] = _FIGURES.get(figure, 0) + amount


def figures() -> dict[str, int]:
    with _LOCK:
        return dict(sorted(_FIGURES.items()))


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures(), indent=2) + "\n", encoding="utf-8")
