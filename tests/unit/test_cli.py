"""The command line as a user meets it: output, exit codes, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepstone.cli import main
from tests.support.asl import body_start

ROOT = Path(__file__).resolve().parents[2]

GOOD = '''
from pydantic import BaseModel
from stepstone import step, workflow


class Out(BaseModel):
    ok: bool = True


@step
def fetch(n: int) -> Out:
    return Out()


@step
def report(a: Out) -> None:
    pass


@workflow
def first(n: int = 3) -> None:
    a = fetch(n)
    if a.ok:
        report(a)


@workflow
def second(n: int = 1) -> Out:
    return fetch(n)
'''

BAD = '''
from stepstone import step, workflow


@step
def fetch(n: int) -> int:
    return n


@workflow
def broken(n: int = 3) -> None:
    total = 0
    while total < n:
        total = fetch(total)
'''


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    (tmp_path / "good_flows.py").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad_flow.py").write_text(BAD, encoding="utf-8")
    return tmp_path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The real console script, as a user runs it (a fresh process each time)."""
    return subprocess.run([sys.executable, "-m", "stepstone", *args], capture_output=True, text=True, check=False,
                          cwd=ROOT)


def test_compile_prints_asl_for_one_workflow(files: Path) -> None:
    result = run("compile", f"{files / 'good_flows.py'}:second")
    assert result.returncode == 0, result.stderr
    definition = json.loads(result.stdout)
    assert body_start(definition) == "fetch"


def test_compile_needs_a_name_when_a_file_holds_several(files: Path) -> None:
    result = run("compile", str(files / "good_flows.py"))
    assert result.returncode == 2
    assert "several workflows: first, second" in result.stderr
    assert "Traceback" not in result.stderr


def test_compile_writes_a_folder_for_several_workflows(files: Path, tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = run("compile", str(files / "good_flows.py"), "-o", str(target), "--explain")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in target.iterdir()) == ["first.asl.json", "second.asl.json"]
    assert "layout" in result.stderr


def test_a_compile_error_is_located_and_has_no_traceback(files: Path) -> None:
    result = run("compile", str(files / "bad_flow.py"))
    assert result.returncode == 2
    first_line = result.stderr.splitlines()[0]
    assert first_line.endswith("bad_flow.py:13:5: error[unsupported-statement]: while loops are not supported")
    assert "13 |     while total < n:" in result.stderr
    assert "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_exit_codes(files: Path) -> None:
    good = run("validate", str(files / "good_flows.py"))
    assert good.returncode == 0
    assert "✓ first" in good.stdout and "✓ second" in good.stdout
    mixed = run("validate", str(files / "good_flows.py"), str(files / "bad_flow.py"))
    assert mixed.returncode == 1
    assert "✗ broken" in mixed.stdout
    missing = run("validate", str(files / "nope.py"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_validate_json(files: Path) -> None:
    result = run("validate", "--json", str(files / "bad_flow.py"))
    assert result.returncode == 1
    (report,) = json.loads(result.stdout)
    assert report["valid"] is False
    (error,) = report["errors"]
    assert error["rule"] == "unsupported-statement" and error["line"] == 13


def test_graph_mermaid_and_dot(files: Path) -> None:
    mermaid = run("graph", f"{files / 'good_flows.py'}:first")
    assert mermaid.returncode == 0
    assert mermaid.stdout.startswith("flowchart TD")
    assert '{"a.ok?"}' in mermaid.stdout
    dot = run("graph", f"{files / 'good_flows.py'}:first", "--format", "dot")
    assert dot.stdout.startswith('digraph "first"')


def test_unknown_workflow_name(files: Path) -> None:
    result = run("graph", f"{files / 'good_flows.py'}:third")
    assert result.returncode == 2
    assert "no workflow named 'third' (its workflows: first, second)" in result.stderr


def test_help_has_examples() -> None:
    runner = CliRunner()
    for command in ("compile", "validate", "graph"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output


def test_a_bug_in_stepstone_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch, files: Path) -> None:
    import stepstone.cli as cli

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.build, "render", broken)
    result = CliRunner().invoke(main, ["graph", f"{files / 'good_flows.py'}:first"])
    assert result.exit_code == 70
    assert "internal error in stepstone: RuntimeError: boom" in result.output
    assert "Traceback" not in result.output
