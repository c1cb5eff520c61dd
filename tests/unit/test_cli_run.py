"""`stepstone run`, `runs` and `show`: what a user sees, and the exit codes scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

import local_flows as flows
import pytest
from click.testing import CliRunner

from stepstone.cli import main

ROOT = Path(__file__).resolve().parents[2]
FLOWS = Path(flows.__file__)


def stepstone(*args: str) -> tuple[int, str]:
    """Exit code and output (stdout alone for --json, which scripts parse)."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout if "--json" in args else result.output


@pytest.fixture()
def home(tmp_path: Path) -> str:
    flows.FAULTS.clear()
    flows.CALLS.clear()
    return str(tmp_path / "home")


def test_run_shows_each_step_and_the_run_id(home: str) -> None:
    code, output = stepstone("run", str(ROOT / "examples" / "ml_training.py"), "--home", home)
    assert code == 0
    for state in ("prod_initiation", "fetch_embedding", "build_dataset", "train_model", "release_model"):
        assert state in output
    assert "succeeded" in output and "output: s3://model-registry/tumor-classifier/" in output
    run_id = output.split(" as run ", 1)[1].split()[0]
    code, listing = stepstone("runs", "--home", home)
    assert code == 0 and run_id in listing and "ml_training" in listing
    code, shown = stepstone("show", run_id[:12], "--home", home)
    assert code == 0 and "train_model" in shown and "parameters:" in shown


def test_a_parameter_from_the_command_line_reaches_the_gate(home: str) -> None:
    code, output = stepstone("run", str(ROOT / "examples" / "ml_training.py"), "--home", home,
                             "--param", "max_null_fraction=0")
    assert code == 0
    assert "output: rejected-data" in output


def test_a_failed_run_exits_1_and_show_has_the_error_and_traceback(home: str) -> None:
    code, output = stepstone("run", str(ROOT / "examples" / "etl_s3.py"), "--home", home, "-p",
                             "key=sales/empty.csv")
    assert code == 1
    assert "EmptyFileError" in output
    run_id = output.split(" as run ", 1)[1].split()[0]
    code, shown = stepstone("show", run_id, "--home", home, "--json")
    record = json.loads(shown)
    assert record["status"] == "failed" and record["error"] == "EmptyFileError"


def test_a_failed_step_shows_its_traceback_and_resume_finishes_the_run(home: str) -> None:
    flows.FAULTS["breaks"] = 1
    spec = f"{FLOWS}:resumable"
    code, output = stepstone("run", spec, "--home", home)
    assert code == 1
    run_id = output.split(" as run ", 1)[1].split()[0]
    code, shown = stepstone("show", run_id, "--home", home)
    assert "✗ breaks: Flaky: breaks failed on purpose" in shown
    assert "Traceback (most recent call last)" in shown and "_maybe_fail" in shown
    assert "stepstone/local/" not in shown and "lambdas/" not in shown  # from the step's code on
    flows.CALLS.clear()
    code, output = stepstone("run", spec, "--home", home, "--resume", run_id)
    assert code == 0
    assert "reused" in output and flows.CALLS == ["breaks"]


def test_bad_parameters_are_refused_before_any_step_runs(home: str) -> None:
    code, output = stepstone("run", str(ROOT / "examples" / "ml_training.py"), "--home", home,
                             "--param", "min_auc=3", "--param", "rows=ten")
    assert code == 2
    assert "min_auc: Input should be less than or equal to 1" in output
    assert "rows: Input should be a valid integer" in output
    assert "min_auc: float = 0.75" in output, "the hint lists the parameters"
    assert stepstone("runs", "--home", home)[1].startswith("no runs")


def test_json_output_and_approvals(home: str) -> None:
    spec = f"{FLOWS}:gated"
    code, output = stepstone("run", spec, "--home", home, "--reject", "--json")
    assert code == 0
    assert json.loads(output)["output"]["value"] == "kept"
    code, output = stepstone("run", spec, "--home", home, "--approve", "--json")
    assert json.loads(output)["output"]["value"] == "shipped"
    code, output = stepstone("runs", "--home", home, "--json")
    assert [r["workflow"] for r in json.loads(output)] == ["gated", "gated"]


def test_unknown_run(home: str) -> None:
    code, output = stepstone("show", "nope", "--home", home)
    assert code == 2 and "no run 'nope'" in output
