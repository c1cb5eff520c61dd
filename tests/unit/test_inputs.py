"""Console-first runs: a run started with ``{}`` or part of its parameters gets the defaults in
its first state, a missing or mistyped parameter fails the run there in the command line's
words; every state says where in the workflow file it comes from; execution names say what
started the run. (On moto and LocalStack: tests/integration/test_console_runs.py and
tests/e2e/test_console_runs.py.)"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from compiler import compile_workflow
from compiler.asl.walk import state_definitions
from compiler.dsl.errors import ParamsError
from compiler.dsl.params import params_not_valid
from compiler.inputs import INVALID_PARAMETER, input_rules, json_kinds
from compiler.loader import load_module, load_workflows, workflows_in
from compiler.parse import parse_workflow
from compiler.protocol import RUN_NAME_LIMIT, is_redrive, redrive_run_id, run_id_of, run_name
from examples.etl_s3 import etl_s3
from examples.hpo_fanout import hpo_fanout
from examples.ml_training import ml_training
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from tests.support.asl import body_start

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_flows as flows

ROOT = Path(__file__).resolve().parents[2]


class Point(BaseModel):
    x: int


@pytest.mark.parametrize(("annotation", "kinds"), [
    (str, {"string"}), (int, {"number"}), (float, {"number"}), (bool, {"boolean"}),
    (list[int], {"structure"}), (dict[str, float], {"structure"}), (Point, {"structure"}),
    (str | None, {"string", "null"}), (int | str, {"number", "string"}), (Literal["a", 1], {"string", "number"}),
    (Any, None), (bytes, None),
])
def test_a_parameter_type_says_which_json_kinds_it_takes(annotation: Any, kinds: set[str] | None) -> None:
    assert json_kinds(annotation) == (frozenset(kinds) if kinds is not None else None)


# --- the first states ------------------------------------------------------------------------


def test_the_defaults_are_merged_in_the_first_state_and_the_input_wins() -> None:
    definition = compile_workflow(etl_s3).definition
    first = definition["States"][definition["StartAt"]]
    assert first["Type"] == "Pass" and first["OutputPath"] == "$.input"
    merge = first["Parameters"]["input.$"]
    prefix, suffix = "States.JsonMerge(States.StringToJson(States.Base64Decode('", "')), $, false)"
    assert merge.startswith(prefix) and merge.endswith(suffix), "the input ($) is merged last: its values win"
    defaults = json.loads(base64.b64decode(merge[len(prefix):-len(suffix)]))
    assert defaults == etl_s3.validate_params({}), "the defaults are what the command line fills in"
    checks = definition["States"][first["Next"]]
    assert checks["Type"] == "Choice" and checks["Default"] == body_start(definition) == "download"


def test_a_workflow_without_parameters_gets_no_first_states() -> None:
    definition = compile_workflow(flows.no_parameters).definition
    assert definition["StartAt"] == "first"
    assert {s["Type"] for s in definition["States"].values()} == {"Task"}


def test_a_required_parameter_is_checked_but_has_no_default() -> None:
    definition = compile_workflow(flows.needs_n).definition
    states = definition["States"]
    merge = states[definition["StartAt"]]["Parameters"]["input.$"]
    encoded = merge.split("'")[1]
    assert "n" not in json.loads(base64.b64decode(encoded))
    rules = states[states[definition["StartAt"]]["Next"]]["Choices"]
    assert rules[0] == {"Not": {"Variable": "$.n", "IsPresent": True}, "Next": "parameter n missing"}
    missing = states["parameter n missing"]
    assert (missing["Error"], missing["Cause"]) == (INVALID_PARAMETER,
                                                    "parameters of 'needs_n' do not validate: n: Field required")


@pytest.mark.parametrize(("definition", "wrong"), [
    (etl_s3, {"key": 5}), (etl_s3, {"bucket": ["raw-data"]}), (ml_training, {"min_auc": "high"}),
    (ml_training, {"rows": None}), (hpo_fanout, {"learning_rates": 0.1}), (flows.needs_n, {"n": "three"}),
    (flows.needs_n, {"n": 1, "tags": "a,b"}), (flows.needs_n, {"n": 1, "factor": [1.5]}), (flows.needs_n, {}),
])
def test_the_cause_is_what_the_command_line_says_for_the_same_mistake(definition: Any, wrong: dict[str, Any]) -> None:
    with pytest.raises(ParamsError) as refused:
        definition.validate_params(wrong)
    said = params_not_valid(definition.name, refused.value.errors)  # what `stepstone run` prints
    rules = input_rules(parse_workflow(definition))
    found = rules.first_problem(rules.with_defaults(wrong))
    assert found is not None
    state, cause = found
    # A Fail state's cause is fixed, so it says what pydantic says of any value of that kind;
    # of text that is no number pydantic adds ", unable to parse string as a number".
    assert said == cause or said.startswith(cause + ", ")
    fail = compile_workflow(definition).definition["States"][state]
    assert (fail["Type"], fail["Error"], fail["Cause"]) == ("Fail", INVALID_PARAMETER, cause)


@pytest.mark.parametrize("given", [{"n": "5"}, {"n": True}, {"n": 1, "factor": "1.5"}])
def test_a_value_of_another_json_kind_is_refused_though_pydantic_would_convert_it(given: dict[str, Any]) -> None:
    """The command line reads ``-p n=5`` as the number 5; a console input's JSON must say 5, not
    "5": conditions on a parameter compile to Choice rules that test numbers as numbers."""
    flows.needs_n.validate_params(given)  # pydantic (lax) converts it
    rules = input_rules(parse_workflow(flows.needs_n))
    assert rules.first_problem(rules.with_defaults(given)) is not None


def test_a_right_input_passes_the_checks() -> None:
    rules = input_rules(parse_workflow(flows.needs_n))
    for given in ({"n": 1}, {"n": 2.0, "factor": None, "tags": ["a"]}, {"n": 1, "stepstone_trigger": {"kind": "s3"}}):
        assert rules.first_problem(rules.with_defaults(given)) is None
    assert rules.with_defaults({"n": 1, "label": "mine"})["label"] == "mine"


LARGE = '''
from stepstone import step, workflow


@step
def count(words: list[str]) -> int:
    return len(words)


@workflow
def large(words: list[str] = [WORDS]) -> int:
    return count(words)
'''


def test_defaults_too_large_for_base64_decode_take_two_pass_states(tmp_path: Path) -> None:
    words = ", ".join(f'"word{i:05d}"' for i in range(900))  # about 11,700 characters as JSON, 15,600 in base64
    (tmp_path / "large_defaults.py").write_text(LARGE.replace("WORDS", words), encoding="utf-8")
    (definition,) = load_workflows(str(tmp_path / "large_defaults.py"))
    asl = compile_workflow(definition).definition
    first = asl["States"][asl["StartAt"]]
    assert first["Parameters"]["defaults"] == definition.validate_params({}) and first["Parameters"]["input.$"] == "$"
    second = asl["States"][first["Next"]]
    assert second["Parameters"] == {"input.$": "States.JsonMerge($.defaults, $.input, false)"}
    assert second["OutputPath"] == "$.input" and asl["States"][second["Next"]]["Type"] == "Choice"


# --- the local target does the same ----------------------------------------------------------


def test_the_local_target_fills_in_defaults_and_fails_at_the_same_state(tmp_path: Path) -> None:
    done = LocalRun(flows.needs_n, LocalStore(tmp_path), run_id="partial").run({"n": 4}).record
    assert done.status == "succeeded" and done.output["value"]["n"] == 40
    assert done.params == {"n": 4, "label": "plain", "factor": None, "tags": None}
    failed = LocalRun(flows.needs_n, LocalStore(tmp_path), run_id="missing").run({"label": "x"}).record
    assert (failed.status, failed.error, failed.failed_state) == ("failed", INVALID_PARAMETER, "parameter n missing")
    assert failed.cause == "parameters of 'needs_n' do not validate: n: Field required"
    assert not failed.steps, "no step ran"


# --- Comments --------------------------------------------------------------------------------


def _line_of(path: Path, text: str) -> int:
    (line,) = [n for n, written in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in written]
    return line


def test_a_state_comment_names_its_file_and_line_and_the_call_as_written() -> None:
    states = state_definitions(compile_workflow(etl_s3).definition)
    source = ROOT / "examples" / "etl_s3.py"
    line = _line_of(source, "raw = download(bucket, key)")
    assert states["download"]["Comment"] == f"examples/etl_s3.py:{line}  raw = download(bucket, key)"
    quarantined = _line_of(source, "    quarantine(bucket, key, error)")
    assert states["quarantine"]["Comment"] == f"examples/etl_s3.py:{quarantined}  quarantine(bucket, key, error)"
    define = _line_of(source, "def etl_s3(")
    assert states["check parameters"]["Comment"].startswith(f"examples/etl_s3.py:{define}  def etl_s3(bucket: str")
    assert states["parameter key of the wrong type"]["Comment"] == \
        f'examples/etl_s3.py:{define}  key: str = "sales/2024-06-01.csv"'


def test_every_state_of_every_example_has_a_comment_with_a_relative_path() -> None:
    for path in sorted((ROOT / "examples").glob("[!_]*.py")):
        for definition in workflows_in(load_module(path)):
            for name, state in state_definitions(compile_workflow(definition).definition).items():
                comment = state.get("Comment", "")
                assert comment.startswith(f"examples/{path.name}:"), (path.name, name, comment)
                assert str(ROOT) not in comment


def test_a_parallel_state_names_the_line_of_each_branch() -> None:
    states = state_definitions(compile_workflow(ml_training).definition)
    source = ROOT / "examples" / "ml_training.py"
    first, second = _line_of(source, "= fetch_embedding(cfg)"), _line_of(source, "= build_dataset(cfg)")
    assert states["fetch_embedding + build_dataset"]["Comment"] == (
        f"examples/ml_training.py:{first}, {second}  side by side: embeddings = fetch_embedding(cfg) | "
        "dataset = build_dataset(cfg)")


# --- execution names -------------------------------------------------------------------------


@pytest.mark.parametrize(("trigger", "tail"), [
    (None, "manual"), ({"kind": "manual", "by": "ana"}, "manual"), ({"kind": "schedule"}, "schedule"),
    ({"kind": "s3", "bucket": "raw-data", "key": "sales/2024-06-01.csv"}, "s3-sales-2024-06-01.csv"),
    ({"kind": "workflow", "workflow": "etl_r2"}, "after-etl-r2"),
])
def test_an_execution_name_says_what_started_the_run(trigger: dict[str, Any] | None, tail: str) -> None:
    name = run_name("20261122-195339-5be8", trigger)
    assert name == f"20261122-195339-5be8-{tail}"
    assert not is_redrive(name), "a name never reads as a redrive's"
    assert run_id_of(f"arn:aws:states:eu-west-1:1:execution:wf:{name}") == name


def test_a_long_key_keeps_its_end_and_leaves_room_for_redrives() -> None:
    key = "incoming/" + "deep/" * 30 + "sales berlin_r7.csv"
    name = run_name("20261122-195339-5be8", {"kind": "s3", "key": key})
    assert len(name) <= RUN_NAME_LIMIT and name.endswith("sales-berlin-r7.csv")
    assert len(redrive_run_id(name)) <= 80 and is_redrive(redrive_run_id(name))
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
