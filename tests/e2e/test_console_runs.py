"""Runs started as the Step Functions console or an SDK starts them, on LocalStack: boto3's
``start_execution`` with ``{}``, part of the parameters or a wrong input, nothing filled in
by stepstone. The defaults come from the state machine's first state (the output equals the
local target's); a wrong input fails at the first states with the command line's words."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from compiler.dsl.errors import ParamsError
from compiler.dsl.params import params_not_valid
from compiler.inputs import INVALID_PARAMETER
from examples.etl_s3 import SAMPLE_OBJECTS, etl_s3
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.testing.localstack import LocalStackSession
from tests.e2e import flows

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def aws(localstack: LocalStackSession) -> LocalStackSession:
    for (bucket, key), text in SAMPLE_OBJECTS.items():
        localstack.upload(bucket, key, text)
    return localstack


def start_as_the_console_does(aws: LocalStackSession, definition: Any, given: dict[str, Any], name: str) -> str:
    machine = aws.deploy(definition).state_machine
    arn: str = aws.aws.sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(given))["executionArn"]
    return arn


def entered(aws: LocalStackSession, arn: str) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in aws.history(arn) if e["type"].endswith("StateEntered")]


STARTS = [(etl_s3, {}, "etl-empty"), (etl_s3, {"key": "sales/broken.csv"}, "etl-partial"),
          (flows.scaled, {"value": 2}, "scaled-partial")]


@pytest.mark.parametrize(("definition", "given", "name"), STARTS, ids=[s[2] for s in STARTS])
def test_a_run_started_with_empty_or_partial_input_gets_its_defaults(definition: Any, given: dict[str, Any],
                                                                     name: str, aws: LocalStackSession,
                                                                     tmp_path: Path) -> None:
    arn = start_as_the_console_does(aws, definition, given, f"console-{name}-{uuid.uuid4().hex[:8]}")
    run = aws.wait(arn)
    assert run.status == "succeeded", (run.failed_state, run.error, run.cause)
    assert entered(aws, arn)[:2] == ["parameter defaults", "check parameters"]
    local = LocalRun(definition, LocalStore(tmp_path), run_id="local").run(dict(given)).record
    assert local.status == "succeeded" and run.output["value"] == local.output["value"]


WRONG = [(etl_s3, {"key": 5}, "key", "etl-wrong-type"), (flows.scaled, {}, "value", "scaled-missing"),
         (flows.scaled, {"value": 2, "factor": "3"}, "factor", "scaled-text")]


@pytest.mark.parametrize(("definition", "wrong", "parameter", "name"), WRONG, ids=[w[3] for w in WRONG])
def test_a_wrong_input_fails_at_the_first_states_naming_the_parameter(definition: Any, wrong: dict[str, Any],
                                                                      parameter: str, name: str,
                                                                      aws: LocalStackSession, tmp_path: Path) -> None:
    arn = start_as_the_console_does(aws, definition, wrong, f"console-{name}-{uuid.uuid4().hex[:8]}")
    run = aws.wait(arn)
    assert (run.status, run.error) == ("failed", INVALID_PARAMETER)
    assert f": {parameter}: " in (run.cause or "")
    states = entered(aws, arn)
    assert states[:2] == ["parameter defaults", "check parameters"] and len(states) == 3
    assert run.failed_state == states[2] and states[2].startswith(f"parameter {parameter} ")
    assert not run.steps, "no step ran"
    if parameter != "factor":  # the command line (pydantic) reads the text "3" as the number 3
        with pytest.raises(ParamsError) as refused:
            definition.validate_params(wrong)
        said = params_not_valid(definition.name, refused.value.errors)
        assert said == run.cause or said.startswith(f"{run.cause}, ")
    local = LocalRun(definition, LocalStore(tmp_path), run_id="local").run(dict(wrong)).record
    assert (local.status, local.error, local.cause, local.failed_state) == ("failed", run.error, run.cause,
                                                                              run.failed_state)
