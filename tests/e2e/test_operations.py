"""Operating runs on LocalStack from the command line, as a person would: trigger a deployed
workflow, list runs with what started them, read a failed step's logs from CloudWatch Logs,
redrive the run after a fix (finished steps are not run again), reject an approval gate,
and see the real state transitions of a run.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from examples.approval_release import approval_release
from stepstone.cli import main
from stepstone.testing.localstack import LocalStackSession
from tests.e2e import flows

pytestmark = pytest.mark.localstack
ON = ("--target", "localstack")


def stepstone(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, *ON])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout if "--json" in args else result.output


def test_a_failed_run_is_read_fixed_and_redriven_on_localstack(localstack: LocalStackSession, tmp_path: Path) -> None:
    localstack.deploy(flows.blocked)
    blocker = tmp_path / "blocker"  # the functions run on this machine: they see this file
    blocker.write_text("locked")
    code, output = stepstone("trigger", "tests/e2e/flows.py:blocked", "-p", f"blocker={blocker}", "--wait")
    assert code == 1, output
    run_id = output.split("started run ", 1)[1].split()[0]
    code, listed = stepstone("runs", "blocked", "--status", "failed", "--since", "10m", "--json")
    assert run_id in [r["run"] for r in json.loads(listed)]
    assert next(r["trigger"] for r in json.loads(listed) if r["run"] == run_id).startswith("manual")
    # the failed step's log lines, from CloudWatch Logs (they may take a moment to land)
    found: list[dict[str, object]] = []
    for _ in range(40):
        found = json.loads(stepstone("logs", run_id, "fragile", "--json")[1])
        if found:
            break
        time.sleep(0.5)
    assert [(f["step"], f["attempt"]) for f in found] == [("fragile", 0)]
    lines = found[0]["lines"]
    assert isinstance(lines, list) and "fragile got 2" in lines and lines[0].startswith("START RequestId:")
    code, shown = stepstone("show", run_id)
    assert code == 0 and "✗ fragile: PermanentError: blocked:" in shown and "fragile got 2" in shown
    assert "state transitions:" in shown
    # after the fix, the redrive: a new run that reuses prepare's output and runs the rest
    blocker.unlink()
    code, output = stepstone("redrive", run_id, "--wait")
    assert code == 0, output
    assert f"as run {run_id}_r1" in output
    record = json.loads(stepstone("show", f"{run_id}_r1", "--json")[1])
    assert record["status"] == "succeeded" and record["trigger"] == f"redrive of {run_id}"
    assert {k: s["status"] for k, s in record["steps"].items()} == {
        "prepare": "reused", "fragile": "succeeded", "finish": "succeeded"}
    assert record["output"]["value"] == (1 + 1) * 2 + 1
    lineage = localstack.read_json(f"runs/blocked/{run_id}_r1/prepare/attempt-0/lineage.json")
    assert lineage["status"] == "reused" and lineage["reused_from"] == f"runs/blocked/{run_id}/prepare/attempt-0/"
    code, output = stepstone("redrive", f"{run_id}_r1")
    # nothing to redrive: the verdict "no" (exit 1), as on the local target
    assert code == 1 and "only a failed, timed out or aborted run can be redriven" in output


def test_a_rejected_gate_takes_the_workflow_s_reject_path(localstack: LocalStackSession, tmp_path: Path) -> None:
    localstack.deploy(approval_release)
    code, output = stepstone("trigger", "approval_release", "--json")
    assert code == 0, output
    run_id = json.loads(output)["run"]
    for _ in range(120):
        code, answered = stepstone("reject", run_id, "-m", "not this week", "--json")
        if code == 0:
            break
        time.sleep(0.5)
    assert code == 0, answered
    assert json.loads(answered)["approved"] is False
    record: dict[str, object] = {}
    for _ in range(120):
        record = json.loads(stepstone("show", run_id, "--json")[1])
        if record["status"] != "running":
            break
        time.sleep(0.5)
    assert record["status"] == "succeeded" and "archived" in json.dumps(record["output"])
    history = localstack.history(localstack.target.find(run_id))
    assert record["transitions"] == sum(1 for e in history if e["type"].endswith("StateEntered"))
    page = tmp_path / "run.html"
    code, output = stepstone("graph", "examples/approval_release.py:approval_release", "--html", "--run", run_id,
                             "-o", str(page))
    assert code == 0, output
    html = page.read_text()
    coloured = set(re.findall(r"class n\d+ (succeeded|failed|notrun|running|cached)", html))
    assert run_id in html and coloured == {"succeeded", "notrun"}, "the path taken green, the release path not run"
