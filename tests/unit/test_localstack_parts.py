"""The LocalStack target's parts that need no LocalStack: reading runs back from their
events, the trigger rule's pattern and input, the function code, the harness's choices,
and the command line when LocalStack is not there."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.deployment.rules import s3_event_pattern, s3_input_transformer, s3_relay_transformer
from compiler.dsl.triggers import S3Upload, s3_upload
from compiler.protocol import run_id_of
from examples.etl_s3 import etl_s3
from examples.ml_training import ml_training
from stepstone.cli import main
from stepstone.localstack.harness import FALLBACK, LocalStack, LocalStackError, choose_install
from stepstone.localstack.package import code_zip, sha256_b64
from stepstone.targets.executions import describe_from_events, history_event
from stepstone.targets.history import History, record_from_history

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:000000000000:execution:flow:run-1"
DEFINITION = {"StartAt": "flaky", "States": {
    "flaky": {"Type": "Task", "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 3},
                                        {"ErrorEquals": ["Flaky"], "MaxAttempts": 1}], "End": True}}}


def event(number: int, previous: int, kind: str, **details: Any) -> dict[str, Any]:
    key = "stateEnteredEventDetails" if kind.endswith("StateEntered") else kind[0].lower() + kind[1:] + "EventDetails"
    return {"id": number, "previousEventId": previous, "type": kind, "timestamp": T0 + timedelta(seconds=number),
            **({key: details} if details else {})}


def scheduled(number: int, previous: int, state: str, attempt: int, **payload: Any) -> dict[str, Any]:
    parameters = {"FunctionName": "fn", "Payload": {"state": state, "step": f"flows:{state}", "attempt": attempt,
                                                    **payload}}
    return event(number, previous, "TaskScheduled", resourceType="lambda", parameters=json.dumps(parameters))


def failed(number: int, previous: int, error: str) -> dict[str, Any]:
    cause = {"errorType": error, "errorMessage": "try again", "stackTrace": ['  File "flows.py", line 3\n']}
    return event(number, previous, "TaskFailed", error=error, cause=json.dumps(cause))


EXECUTION = {"executionArn": ARN, "stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:flow",
             "name": "run-1", "status": "RUNNING", "startDate": T0, "input": json.dumps({"n": 1})}


def test_a_retried_step_is_retrying_between_attempts_then_succeeds() -> None:
    history = History(EXECUTION, DEFINITION)
    changes = [(step.key, step.status) for step, _ in history.feed([
        event(1, 0, "ExecutionStarted"), event(2, 0, "TaskStateEntered", name="flaky", input="{}"),
        scheduled(3, 2, "flaky", 0), event(4, 3, "TaskStarted"), failed(5, 4, "Flaky")])]
    assert changes == [("flaky", "running"), ("flaky", "retrying")]
    output = {"StatusCode": 200, "Payload": {"fields": {}, "ref": None, "value": 3}}
    list(history.feed([scheduled(6, 5, "flaky", 1), event(7, 6, "TaskStarted"),
                       event(8, 7, "TaskSucceeded", output=json.dumps(output))]))
    step = history.record.steps["flaky"]
    assert (step.status, step.attempts, step.envelope["value"], step.error) == ("succeeded", 2, 3, None)
    assert step.duration_ms == 2000.0, "the two attempts' time, not the wait between them"


def test_a_failure_beyond_the_retry_policy_fails_the_step_and_names_it() -> None:
    events = [event(2, 0, "TaskStateEntered", name="flaky", input="{}"), scheduled(3, 2, "flaky", 0),
              failed(4, 3, "Flaky"), scheduled(5, 4, "flaky", 1), failed(6, 5, "Flaky")]
    finished = {**EXECUTION, "status": "FAILED", "stopDate": T0 + timedelta(seconds=7), "error": "Flaky",
                "cause": json.dumps({"errorMessage": "try again"})}
    record = record_from_history(finished, events, DEFINITION)
    step = record.steps["flaky"]
    assert (step.status, step.attempts, step.error, step.cause) == ("failed", 2, "Flaky", "try again")
    assert step.traceback and "flows.py" in step.traceback
    assert (record.status, record.failed_state, record.error, record.cause) == ("failed", "flaky", "Flaky",
                                                                              "try again")


def test_fan_out_items_are_told_apart_by_their_map_path() -> None:
    events = [event(2, 0, "MapIterationStarted"), event(3, 2, "TaskStateEntered", name="square",
                                                       input=json.dumps({"map_path": "m/0"})),
              event(4, 0, "TaskStateEntered", name="square", input=json.dumps({"map_path": "m/1"})),
              scheduled(5, 3, "square", 0, map_path="m/0"), scheduled(6, 4, "square", 0, map_path="m/1"),
              event(7, 6, "TaskSucceeded", output=json.dumps({"Payload": {"value": 1}}))]
    record = record_from_history(EXECUTION, events, DEFINITION)
    assert {k: s.status for k, s in record.steps.items()} == {"m/0/square": "running", "m/1/square": "succeeded"}


def test_an_approval_gate_waits_with_its_question_until_answered() -> None:
    history = History(EXECUTION, DEFINITION)
    gate = event(3, 2, "TaskScheduled", parameters=json.dumps({"Payload": {"token": "t", "message": "ship?",
                                                                             "state": "gate"}}))
    list(history.feed([event(2, 0, "TaskStateEntered", name="gate", input="{}"), gate, event(4, 3, "TaskStarted"),
                       event(5, 4, "TaskSubmitted")]))
    assert history.waiting == {"gate": "ship?"}
    notes = [note for _, note in history.feed([event(6, 5, "TaskSucceeded", output=json.dumps(
        {"approved": False, "approver": "ana", "comment": ""}))])]
    assert notes == ["rejected"] and history.waiting == {}


def test_an_express_runs_logged_events_read_like_a_history() -> None:
    arn = "arn:aws:states:us-east-1:000000000000:express:etl:run-9:6f1c"
    logged = [{"id": "1", "previous_event_id": "0", "type": "ExecutionStarted", "execution_arn": arn,
               "event_timestamp": "2026-11-22T12:00:00+00:00", "details": {"input": '{"key": "a.csv"}'}},
              {"id": "2", "previous_event_id": "1", "type": "ExecutionSucceeded", "execution_arn": arn,
               "event_timestamp": "2026-11-22T12:00:02+00:00", "details": {"output": '{"value": "ok"}'}}]
    events = [history_event(m) for m in logged]
    described = describe_from_events(arn, events)
    assert (described["name"], described["status"], described["input"]) == ("run-9", "SUCCEEDED", '{"key": "a.csv"}')
    assert described["stateMachineArn"].endswith(":stateMachine:etl")
    assert record_from_history(described, events).duration_ms == 2000.0
    assert run_id_of(arn) == "run-9" and run_id_of(ARN) == "run-1"


def test_the_s3_trigger_pattern_uses_one_operator_per_match() -> None:
    both = s3_event_pattern(s3_upload("raw-data", "sales/", ".csv"))
    assert both["detail"]["object"]["key"] == [{"wildcard": "sales/*.csv"}]
    assert s3_event_pattern(s3_upload("raw-data", "in/"))["detail"]["object"]["key"] == [{"prefix": "in/"}]
    assert s3_event_pattern(s3_upload("raw-data", "a*b/", ".csv"))["detail"]["object"]["key"] == [
        {"wildcard": "a\\*b/*.csv"}]
    assert s3_event_pattern(s3_upload("raw-data"))["detail"]["object"]["key"] == [{"wildcard": "*"}], \
        "an event without a key starts no run"
    assert s3_event_pattern(s3_upload("raw-data", "in box/", ".csv"), url_encoded_keys=True)["detail"]["object"][
        "key"] == [{"wildcard": "in%20box/*.csv"}], "LocalStack's events carry the key percent-encoded"


def test_the_trigger_gives_a_run_every_parameter() -> None:
    trigger = ml_training.options.triggers[0]
    assert isinstance(trigger, S3Upload)
    transformer = s3_input_transformer(trigger, ml_training)
    assert transformer["InputPathsMap"] == {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"}
    filled = transformer["InputTemplate"].replace("<bucket>", '"raw-data"').replace("<key>", '"incoming/x.csv"')
    document = json.loads(filled)
    # LocalStack's rules go through the relay, which names the run after the event's id
    relayed = json.loads(s3_relay_transformer(trigger, ml_training, "arn:sm")["InputTemplate"].replace(
        "<bucket>", '"raw-data"').replace("<key>", '"incoming/x.csv"').replace("<id>", '"e-1"'))
    assert (relayed["run"], relayed["state_machine"], relayed["key_param"]) == ("e-1", "arn:sm", "key")
    assert relayed["input"] == document
    assert document.pop("stepstone_trigger") == {"kind": "s3", "bucket": "raw-data", "key": "incoming/x.csv"}
    assert ml_training.validate_params(document) == document, "defaults filled in: a valid run input"
    assert (document["bucket"], document["key"], document["min_auc"]) == ("raw-data", "incoming/x.csv", 0.75)


def test_the_function_code_holds_the_runner_and_the_workflows_package(tmp_path: Path) -> None:
    archive = code_zip(Path("examples/etl_s3.py"))
    names = set(zipfile.ZipFile(io.BytesIO(archive)).namelist())
    assert {"lambdas/step_runner.py", "lambdas/approval.py", "compiler/protocol/payload.py", "stepstone/__init__.py",
            "examples/etl_s3.py", "examples/_ml.py"} <= names
    assert not any("plugin/" in n or "__pycache__" in n for n in names)
    assert sha256_b64(code_zip(Path("examples/etl_s3.py"))) == sha256_b64(archive), "the same bytes every time"
    assert etl_s3.name == "etl_s3"


def test_a_python_older_than_the_newest_localstack_needs_gets_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTONE_LOCALSTACK_PYTHON", sys.executable)
    install = choose_install()
    expected = FALLBACK[0] if sys.version_info[:2] < (3, 13) else "2026.3.0"
    assert install.localstack == expected and install.python == sys.executable
    monkeypatch.setenv("STEPSTONE_LOCALSTACK_PYTHON", "/no/such/python")
    with pytest.raises(LocalStackError, match="does not run"):
        choose_install()


def test_without_localstack_the_commands_say_how_to_start_it(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setenv("STEPSTONE_LOCALSTACK_HOST", "127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("STEPSTONE_LOCALSTACK_HOME", str(tmp_path))
    cli = CliRunner()
    on = ["--target", "localstack"]
    for args in (["runs", *on], ["show", "x", *on], ["approve", "x", *on], ["reject", "x", *on], ["logs", "x", *on],
                 ["redrive", "x", *on], ["trigger", "etl_s3", *on], ["run", "examples/ml_training.py", *on]):
        result = cli.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert "LocalStack is not running on 127.0.0.1:9" in result.output
        assert "stepstone localstack up" in result.output and "Traceback" not in result.output
    status = cli.invoke(main, ["localstack", "status"])
    assert status.exit_code == 1 and "not running" in status.output
    assert cli.invoke(main, ["localstack", "down"]).output.strip() == "LocalStack is not running"
    resume = cli.invoke(main, ["run", "examples/ml_training.py", "--target", "localstack", "--resume", "r"])
    assert resume.exit_code == 2 and "--resume is for the local target" in resume.output
    assert not LocalStack(tmp_path).status().running


def test_a_fan_out_runs_at_most_a_few_items_at_once_on_localstack() -> None:
    """Compiled for LocalStack (both deployers), every Map is capped; for AWS none is."""
    from compiler import compile_workflow
    from compiler.asl.walk import state_definitions
    from compiler.deployment.profile import LOCALSTACK_MAP_CONCURRENCY, LOCALSTACK_PROFILE
    from tests.e2e import flows, load_flows

    def limits(definition: Any, **options: Any) -> dict[str, Any]:
        machine = compile_workflow(definition, **options).definition
        return {name: s.get("MaxConcurrency") for name, s in state_definitions(machine).items() if s["Type"] == "Map"}

    assert limits(load_flows.load_map) == {"for x in items": None}, "a distributed Map with no limit of its own"
    assert limits(load_flows.load_map, profile=LOCALSTACK_PROFILE) == {"for x in items": LOCALSTACK_MAP_CONCURRENCY}
    assert set(limits(flows.wide_fan_out, profile=LOCALSTACK_PROFILE).values()) == {5}, \
        "a limit within the bound stays as it is"


def test_the_plugin_writes_a_distributed_maps_results_where_the_step_runner_reads_them(tmp_path: Path) -> None:
    import importlib.util

    from lambdas.envelope import read_envelope
    from lambdas.store import LocalStore

    source = Path(__file__).resolve().parents[2] / "stepstone/localstack/plugin/stepstone_lambda_host/stepfunctions.py"
    spec = importlib.util.spec_from_file_location("stepstone_lambda_host_stepfunctions", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # needs no LocalStack until its fixes are applied
    store = LocalStore(tmp_path)

    class S3:
        def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:  # boto3's argument names
            assert Bucket == "artifacts"
            store.write(Key, Body)

    outputs = [{"fields": {"n": i}, "ref": None, "value": {"n": i, "label": f"item-{i}"}} for i in range(3)]
    found = module.write_results(S3(), "artifacts", "runs/wf/run-1/for_x_in_items",
                                 "arn:aws:states:us-east-1:000000000000:mapRun:wf/for-x:map-run-1", outputs)
    assert found == {"MapRunArn": "arn:aws:states:us-east-1:000000000000:mapRun:wf/for-x:map-run-1",
                     "ResultWriterDetails": {"Bucket": "artifacts",
                                             "Key": "runs/wf/run-1/for_x_in_items/map-run-1/manifest.json"}}
    envelope = {"fields": {}, "ref": found["ResultWriterDetails"]["Key"], "value": None}  # what the Map's state holds
    assert read_envelope(envelope, store) == [o["value"] for o in outputs], "every item's output, in item order"
