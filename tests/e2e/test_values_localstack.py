"""Every codec's round trip in LocalStack: each step a real Lambda function (stepstone's host
executor), the values stored in LocalStack's S3, read back by the next step, by
``stepstone artifacts --target localstack`` and by ``stepstone.load`` in a fresh process.

It also runs the Choice rules only LocalStack's interpreter checks here: ``if not
report.passed`` on a mixed record's field and Python's truthiness of a plain dict's fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from stepstone.cli import main
from stepstone.records import RunRecord
from stepstone.testing.localstack import LocalStackSession
from tests.e2e.value_flows import array_of, frame_of, gated_model, model_of, values_round_trip

pytestmark = pytest.mark.localstack
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def finished(localstack: LocalStackSession) -> RunRecord:
    record = localstack.run(values_round_trip, {})
    assert record.status == "succeeded", (record.failed_state, record.error, record.cause)
    return record


def test_every_value_arrives_equal_in_localstack(finished: RunRecord) -> None:
    checks = finished.output["value"]
    assert {k: v for k, v in checks.items() if v is not True} == {"note": "rows, and an empty list is false"}


def test_artifacts_and_load_read_a_localstack_run(finished: RunRecord, localstack: LocalStackSession,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(main, ["artifacts", finished.run_id, "--target", "localstack", "--json"])
    assert result.exit_code == 0, result.output
    codecs = {(r["step"], r["value"]): r["codec"] for r in json.loads(result.output)}
    assert codecs[("fit_model", "")] == "pickle" and codecs[("make_frame", "")] == "parquet"
    assert codecs[("column_means", "")] == "npy", "a Batch step's output (run as Lambda here)"
    script = ("import stepstone\n"
              f"frame = stepstone.load({finished.run_id!r}, 'make_frame', target='localstack')\n"
              "from tests.e2e.value_flows import frame_of\n"
              "print(frame.equals(frame_of(60)))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr


def test_a_model_and_a_dataframe_wait_on_an_approval_gate(localstack: LocalStackSession) -> None:
    record = localstack.run(gated_model, {}, approve=True)
    assert record.status == "succeeded", (record.failed_state, record.error, record.cause)
    frame = frame_of(60)
    features = np.column_stack([frame["x"], array_of(60)])
    assert record.output["value"] == round(float(model_of(60).score(features, frame["label"])), 6)
