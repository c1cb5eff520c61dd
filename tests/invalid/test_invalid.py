"""Every bad workflow in ``tests/invalid/workflows/`` gives its exact error at its exact line.

Each file starts with three comment lines naming what the compiler must say:

    # expect-rule: unsupported-statement
    # expect-line: 12
    # expect-message: while loops are not supported

and every error must come with a hint (what to write instead). The command line must
print it without a traceback and exit non-zero.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import CompileError, compile_workflow
from compiler.loader import load_workflows
from stepstone.cli import main

FOLDER = Path(__file__).resolve().parent / "workflows"
CASES = sorted(FOLDER.glob("*.py"))
HEADER = re.compile(r"^# expect-(rule|line|message): (.*)$")


def expectation(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[:3]:
        match = HEADER.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    assert set(found) == {"rule", "line", "message"}, f"{path.name}: the first three lines must be expect-* comments"
    return found


def first_error(path: Path) -> CompileError:
    try:
        for workflow in load_workflows(str(path)):
            compile_workflow(workflow)
    except CompileError as exc:
        return exc
    pytest.fail(f"{path.name} compiled, but it must fail")


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_workflow_gives_its_error(path: Path) -> None:
    expected = expectation(path)
    error = first_error(path)
    assert error.location is not None, "every error has a location"
    assert Path(error.location.file).resolve() == path.resolve(), "the error points into the user's file"
    assert (error.rule, error.location.line, error.message) == (
        expected["rule"], int(expected["line"]), expected["message"])
    assert error.hint, "every error says what to do"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_command_line_prints_it_without_a_traceback(path: Path) -> None:
    expected = expectation(path)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert f"error[{expected['rule']}]" in result.output
    assert f":{expected['line']}" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
