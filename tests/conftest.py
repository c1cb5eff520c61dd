"""Shared test set-up: the repository root on sys.path, so `examples` imports as a package;
the robustness figures (tests/support/reliability.py) printed and written at the end."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _stepstone_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs and files a test makes go to a temporary folder, never into the repository."""
    monkeypatch.setenv("STEPSTONE_HOME", str(tmp_path_factory.mktemp("stepstone-home")))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.support import reliability

    found = reliability.figures()
    if not found:
        return
    reliability.write(ROOT / "build" / "reliability.json")
    terminalreporter.section("reliability: what the robustness tests did (build/reliability.json)")
    width = max(len(name) for name in found)
    for name, value in found.items():
        terminalreporter.write_line(f"{name:<{width}}  {value:>7,}")
