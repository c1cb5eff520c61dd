"""Runs started as the Step Functions console or an SDK starts them, on moto's interpreter:
``start_execution`` with ``{}``, part of the parameters, or a wrong input, nothing filled in
by stepstone first. The defaults come from the state machine's first state, and the output
must equal the local target's; a wrong input fails at the first states with the cause the
command line gives, and the local target fails the same way."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from compiler.dsl.errors import ParamsError
from compiler.dsl.params import params_not_valid
from compiler.inputs import INVALID_PARAMETER
from examples.etl_s3 import etl_s3
from examples.hpo_fanout import hpo_fanout
from examples.ml_training import ml_training
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.testing.moto_sfn import MotoStepFunctions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import local_flows as flows

FIRST_STATES = ["parameter defaults", "check parameters"]


def local_run(definition: Any, given: dict[str, Any], tmp_path: Path) -> Any:
    """The local target, handed the input as given (no validation first)."""
    run = LocalRun(definition, LocalStore(tmp_path), run_id="local", approver=lambda q, s: True)
    return run.run(dict(given)).record


STARTS = [(etl_s3, {}), (ml_training, {}), (hpo_fanout, {}),
          (etl_s3, {"key": "sales/broken.csv"}), (ml_training, {"min_auc": 0.99}), (flows.needs_n, {"n": 5})]


@pytest.mark.parametrize(("definition", "given"), STARTS,
                         ids=[f"{d.name}-{'-'.join(f'{k}={v}' for k, v in g.items()) or 'empty'}" for d, g in STARTS])
def test_a_run_started_with_empty_or_partial_input_gets_its_defaults(definition: Any, given: dict[str, Any],
                                                                     moto: MotoStepFunctions, tmp_path: Path) -> None:
    run = moto.run_workflow(definition, given, checked=False)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.states[:2] == FIRST_STATES
    local = local_run(definition, given, tmp_path)
    assert local.status == "succeeded", (local.error, local.cause)
    assert run.output == local.output
    # and what `stepstone run` would have started it with gives the same output
    assert run.output == moto.run_workflow(definition, given).output


def test_the_input_keeps_its_own_values_and_the_trigger(moto: MotoStepFunctions) -> None:
    run = moto.run_workflow(etl_s3, {"key": "sales/empty.csv", "stepstone_trigger": {"kind": "manual"}}, checked=False)
    assert run.status == "FAILED" and run.error == "EmptyFileError", "the given key, not the default, was read"
    entered = next(e for e in run.history if e["type"] == "TaskStateEntered")
    assert json.loads(entered["stateEnteredEventDetails"]["input"]) == {
        "bucket": "raw-data", "key": "sales/empty.csv", "stepstone_trigger": {"kind": "manual"}}


WRONG = [(etl_s3, {"key": 5}, "key"), (ml_training, {"min_auc": "high"}, "min_auc"),
         (hpo_fanout, {"learning_rates": 0.1}, "learning_rates"), (flows.needs_n, {}, "n"),
         (flows.needs_n, {"n": 1, "tags": "a,b"}, "tags"), (flows.needs_n, {"n": None}, "n")]


@pytest.mark.parametrize(("definition", "wrong", "name"), WRONG,
                         ids=[f"{d.name}-{'-'.join(f'{k}={v}' for k, v in w.items()) or 'empty'}" for d, w, _ in WRONG])
def test_a_wrong_input_fails_at_the_first_states_naming_the_parameter(definition: Any, wrong: dict[str, Any], name: str,
                                                                      moto: MotoStepFunctions, tmp_path: Path) -> None:
    run = moto.run_workflow(definition, wrong, checked=False)
    assert run.status == "FAILED" and run.error == INVALID_PARAMETER
    assert f": {name}: " in run.cause, "the cause names the parameter"
    with pytest.raises(ParamsError) as refused:
        definition.validate_params(wrong)
    said = params_not_valid(definition.name, refused.value.errors)  # the command line's words
    assert said == run.cause or said.startswith(run.cause + ", ")
    assert run.states[:2] == FIRST_STATES and len(run.states) == 3, "it failed at the first states"
    assert run.states[2].startswith(f"parameter {name} ")
    assert not run.calls, "no step ran"
    local = local_run(definition, wrong, tmp_path)
    assert (local.status, local.error, local.cause, local.failed_state) == ("failed", run.error, run.cause,
                                                                              run.states[2])
