"""Every codec's round trip through moto's Step Functions interpreter (tests/e2e/value_flows.py):
the values travel by reference through moto's S3, the Batch step through the Batch entry
point, and each arrives equal to what was sent, as on the local target."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.testing.moto_sfn import MotoStepFunctions
from tests.e2e.value_flows import array_of, frame_of, gated_model, model_of, values_round_trip


def test_every_value_arrives_equal_in_moto_and_as_on_the_local_target(moto: MotoStepFunctions,
                                                                      tmp_path: Path) -> None:
    run = moto.run_workflow(values_round_trip, {})
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    checks = run.output["value"]
    assert {k: v for k, v in checks.items() if v is not True} == {"note": "rows, and an empty list is false"}
    local = LocalRun(values_round_trip, LocalStore(tmp_path), run_id="local").run({"rows": 60}).record
    assert run.output["value"] == local.output["value"]
    listed = moto.s3.list_objects_v2(Bucket="stepstone-artifacts", Prefix="runs/values_round_trip/")
    suffixes = {item["Key"].rsplit(".", 1)[-1] for item in listed.get("Contents", []) if "/values/" in item["Key"]}
    assert {"parquet", "npy", "pkl", "csv", "tar"} <= suffixes, suffixes


def test_a_model_and_a_dataframe_wait_on_an_approval_gate(moto: MotoStepFunctions) -> None:
    run = moto.run_workflow(gated_model, {}, approve=True)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    frame = frame_of(60)
    features = np.column_stack([frame["x"], array_of(60)])
    assert run.output["value"] == round(float(model_of(60).score(features, frame["label"])), 6)
