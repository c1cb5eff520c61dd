"""Operating local runs: trigger, runs (filters, trigger column), show, logs, redrive,
approve/reject, and the one-line errors scripts get for wrong input (no AWS needed).

Triggered local runs really run in a process of their own (as a deployed workflow would),
so these tests wait for them through the same commands a person uses (--wait).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from stepstone.cli import main

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "tests" / "e2e" / "flows.py"


def stepstone(*args: str) -> tuple[int, str]:
    """Exit code and output (stdout alone for --json, which scripts parse)."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout if "--json" in args else result.output


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("STEPSTONE_TARGET", raising=False)
    return str(tmp_path / "home")


def _started(output: str) -> str:
    return output.split("started run ", 1)[1].split()[0]


def test_a_failed_run_is_inspected_fixed_and_redriven_without_rerunning_finished_steps(
        home: str, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("the upstream table is locked")
    code, output = stepstone("trigger", f"{FLOWS}:blocked", "-p", f"blocker={blocker}", "--home", home, "--wait")
    assert code == 1, output
    run_id = _started(output)
    # show: the failed step's error, its traceback, and what it printed
    code, shown = stepstone("show", run_id, "--home", home)
    assert code == 0
    assert "✗ fragile: PermanentError: blocked:" in shown and "last log lines of fragile:" in shown
    assert "fragile got 2" in shown and "started by: manual" in shown
    assert "├── ✓ prepare" in shown and "├── ✗ fragile" in shown and "- finish" in shown, "the graph, by state"
    assert 'File "' in shown and "runner.py" not in shown, "the traceback starts in the user's code"
    assert all(len(line) <= 80 for line in stepstone("runs", "--home", home)[1].splitlines())
    # logs: per step and attempt; one step; JSON for scripts
    code, printed = stepstone("logs", run_id, "--home", home)
    assert code == 0 and "── prepare  attempt 1" in printed and "preparing 1" in printed
    code, printed = stepstone("logs", run_id, "fragile", "--home", home, "--json")
    assert json.loads(printed) == [{"step": "fragile", "attempt": 0, "lines": ["fragile got 2"]}]
    # runs: filters by status and time, shows the trigger
    code, listed = stepstone("runs", "--home", home, "--status", "failed", "--since", "1h", "--json")
    who = os.environ.get("USER") or "stepstone"
    assert [(r["run"], r["status"], r["trigger"]) for r in json.loads(listed)] == [(run_id, "failed",
                                                                                  f"manual ({who})")]
    assert json.loads(stepstone("runs", "--home", home, "--status", "succeeded", "--json")[1]) == []
    # the fix, then the redrive: the same run goes on; prepare is not run again
    blocker.unlink()
    code, output = stepstone("redrive", run_id, "--home", home, "--wait")
    assert code == 0, output
    record = json.loads(stepstone("show", run_id, "--home", home, "--json")[1])
    assert record["status"] == "succeeded" and record["resumed"] == 1
    assert {k: s["status"] for k, s in record["steps"].items()} == {
        "prepare": "reused", "fragile": "succeeded", "finish": "succeeded"}
    attempts = json.loads(stepstone("logs", run_id, "--home", home, "--json")[1])
    assert [(a["step"], a["attempt"]) for a in attempts] == [("fragile", 0), ("fragile", 1), ("prepare", 0)]
    code, output = stepstone("redrive", run_id, "--home", home)
    assert code == 1 and "succeeded; only a failed or interrupted run can be redriven" in output


def test_a_triggered_run_waits_at_its_gate_until_approved_or_rejected(home: str) -> None:
    spec = str(ROOT / "examples" / "approval_release.py") + ":approval_release"
    for verb, expected in (("approve", "released"), ("reject", "archived")):
        code, output = stepstone("trigger", spec, "--home", home, "--json")
        assert code == 0, output
        run_id = json.loads(output)["run"]
        waiting = ""
        for _ in range(200):  # the run gets to its gate in its own process
            code, waiting = stepstone(verb, run_id, "--home", home)
            if code == 0:
                break
            time.sleep(0.1)
        assert code == 0, waiting
        assert ("approved" if verb == "approve" else "rejected") in waiting
        record: dict[str, object] = {}
        for _ in range(300):
            record = json.loads(stepstone("show", run_id, "--home", home, "--json")[1])
            if record["status"] != "running":
                break
            time.sleep(0.1)
        assert record["status"] == "succeeded"
        assert expected in json.dumps(record["output"]), record["output"]
        code, output = stepstone("approve", run_id, "--home", home)
        assert code == 1 and "has no approval waiting" in output


def test_trigger_by_name_checks_parameters_before_anything_starts(home: str) -> None:
    code, output = stepstone("trigger", "etl_s3", "--home", home, "--wait")
    assert code == 0 and "succeeded" in output
    code, output = stepstone("trigger", "etl_s3", "-p", "nope=1", "--home", home)
    assert code == 2 and "do not validate" in output and "Traceback" not in output
    code, output = stepstone("trigger", "no_such_workflow", "--home", home)
    assert code == 2 and "no workflow named 'no_such_workflow'" in output and "ml_training" in output
    assert len(json.loads(stepstone("runs", "--home", home, "--json")[1])) == 1


@pytest.mark.parametrize("args", [
    ("show", "nope"), ("logs", "nope"), ("redrive", "nope"), ("approve", "nope"), ("reject", "nope", "gate"),
    ("runs", "--since", "yesterday-ish"),
])
def test_wrong_input_is_one_line_and_exit_2(home: str, args: tuple[str, ...]) -> None:
    code, output = stepstone(*args, "--home", home)
    assert code == 2 and "error:" in output and "Traceback" not in output


def test_aws_without_credentials_says_so_in_one_line(home: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for args in (("runs",), ("show", "x"), ("trigger", "etl_s3"), ("logs", "x"), ("redrive", "x")):
        code, output = stepstone(*args, "--target", "aws")
        assert code == 2 and "no AWS credentials found" in output and "Traceback" not in output, output


def test_every_operation_command_has_help_with_an_example() -> None:
    for command in ("trigger", "runs", "show", "logs", "redrive", "approve", "reject"):
        code, output = stepstone(command, "--help")
        assert code == 0 and "Example" in output and "--target" in output and "--json" in output, command
