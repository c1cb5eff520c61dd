"""The ASL evaluator the local target reads data through: paths, templates, Choice rules."""

from __future__ import annotations

import pytest

from compiler.asl.interpret import holds, read, render
from compiler.errors import PathError

STATE = {"min_auc": 0.8, "vars": {"q": {"fields": {"passed": True, "n": 3, "tag": "a"}, "ref": None,
                                        "value": [1, 2]}}, "map_path": "m/2"}
CONTEXT = {"Execution": {"Name": "run-1", "Id": "local:wf:run-1"}}


def test_paths_read_the_state_and_the_context() -> None:
    assert read("$", STATE, CONTEXT) is STATE
    assert read("$.vars.q.fields.n", STATE, CONTEXT) == 3
    assert read("$.vars.q.value[1]", STATE, CONTEXT) == 2
    assert read("$$.Execution.Name", STATE, CONTEXT) == "run-1"
    with pytest.raises(PathError):
        read("$.vars.nope", STATE, CONTEXT)


def test_templates_and_intrinsics() -> None:
    template = {"args": {"q": {"result.$": "$.vars.q"}, "lit": {"value": {"a": 1}}},
                "ref.$": "States.Format('runs/wf/{}/{}/train/output.json', $$.Execution.Name, $.map_path)",
                "json.$": "States.JsonToString($.vars.q.fields)"}
    out = render(template, STATE, CONTEXT)
    assert out["args"]["q"] == {"result": STATE["vars"]["q"]} and out["args"]["lit"] == {"value": {"a": 1}}
    assert out["ref"] == "runs/wf/run-1/m/2/train/output.json"
    assert out["json"] == '{"passed":true,"n":3,"tag":"a"}'


@pytest.mark.parametrize(("rule", "expected"), [
    ({"BooleanEquals": True, "Variable": "$.vars.q.fields.passed"}, True),
    ({"NumericGreaterThanEqualsPath": "$.min_auc", "Variable": "$.vars.q.fields.n"}, True),
    ({"NumericLessThan": 3, "Variable": "$.vars.q.fields.n"}, False),
    ({"StringEquals": "a", "Variable": "$.vars.q.fields.tag"}, True),
    ({"NumericEquals": 3, "Variable": "$.vars.q.fields.tag"}, False),  # the wrong type: false, not an error
    ({"IsNull": True, "Variable": "$.vars.q.ref"}, True),
    ({"Not": {"IsNull": True, "Variable": "$.vars.q.value"}}, True),
    ({"And": [{"BooleanEquals": True, "Variable": "$.vars.q.fields.passed"},
              {"Or": [{"StringEquals": "b", "Variable": "$.vars.q.fields.tag"},
                      {"NumericGreaterThan": 2, "Variable": "$.vars.q.fields.n"}]}]}, True),
])
def test_choice_rules(rule: dict[str, object], expected: bool) -> None:
    assert holds(rule, STATE, CONTEXT) is expected


def test_a_choice_on_a_missing_path_fails_as_in_step_functions() -> None:
    with pytest.raises(PathError):
        holds({"BooleanEquals": True, "Variable": "$.vars.q.fields.missing"}, STATE, CONTEXT)
