"""The first states of a state machine: the parameters' defaults, then the input checks
(``compiler/inputs.py`` holds the contract; the local target applies the same one).

A run started with ``{}`` or part of its parameters (from the console, an SDK, a rule)
gets the defaults in one Pass state::

    "Parameters": {"input.$": "States.JsonMerge(States.StringToJson(States.Base64Decode('<defaults>')), $, false)"},
    "OutputPath": "$.input"

The defaults travel base64-encoded because a literal in an intrinsic function must escape
``' { } \\`` on AWS, and moto and LocalStack keep those escapes in the text (``\\{`` stays
``\\{``, so the JSON no longer parses) and refuse ``\\'``: base64 has none of them, and all
three decode it alike. AWS decodes at most 10,000 characters of it; larger defaults take two
Pass states instead (the defaults as a plain object beside the input, then the merge).

Then one Choice state: a rule per missing required parameter and per parameter of the wrong
JSON type, each to a Fail state (``stepstone.InvalidParameter``, the command line's words);
its Default goes on to the workflow's first state. A workflow without parameters gets none
of these states, one whose parameters all have defaults and any type no Choice.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from ..inputs import INVALID_PARAMETER, SCALARS, InputRules, JsonKind, ParamCheck
from .states import ChoiceState, FailState, PassState, StateMachine

__all__ = ["BASE64_DECODE_LIMIT", "input_states"]

BASE64_DECODE_LIMIT = 10_000  # the most characters States.Base64Decode takes (AWS; LocalStack checks it too)

_TESTS: dict[JsonKind, str] = {"string": "IsString", "number": "IsNumeric", "boolean": "IsBoolean", "null": "IsNull"}


def _test(path: str, kind: JsonKind) -> dict[str, Any]:
    return {"Variable": path, _TESTS[kind]: True}


def _any(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return rules[0] if len(rules) == 1 else {"Or": rules}


def wrong_type_rule(check: ParamCheck) -> dict[str, Any] | None:
    """The Choice rule that matches a value of a kind ``check`` refuses (a Choice rule cannot
    test for an object or an array, only for what is neither string, number, boolean nor null)."""
    if check.kinds is None:
        return None
    path = f"$.{check.name}"
    if "structure" in check.kinds:
        refused = [_test(path, kind) for kind in SCALARS if kind not in check.kinds]
        return _any(refused) if refused else None
    return {"Not": _any([_test(path, kind) for kind in SCALARS if kind in check.kinds])}


def _merge(rules: InputRules, machine: StateMachine, comment: str, entry: str) -> str:
    """The Pass state(s) that fill in the defaults; returns the first one's name."""
    text = json.dumps(dict(rules.defaults), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    encoded = base64.b64encode(text.encode()).decode()
    if len(encoded) <= BASE64_DECODE_LIMIT:
        merge = f"States.JsonMerge(States.StringToJson(States.Base64Decode('{encoded}')), $, false)"
        machine.add(PassState(rules.merge_state, comment=comment, parameters={"input.$": merge},
                              output_path="$.input", next=entry))
        return rules.merge_state
    merged = rules.merged_state
    machine.add(PassState(rules.merge_state, comment=comment, next=merged,
                          parameters={"defaults": dict(rules.defaults), "input.$": "$"}))
    machine.add(PassState(merged, comment=comment, output_path="$.input", next=entry,
                          parameters={"input.$": "States.JsonMerge($.defaults, $.input, false)"}))
    return rules.merge_state


def input_states(rules: InputRules, machine: StateMachine, entry: str, comment: Callable[[str | None], str]) -> str:
    """Put the first states before ``entry`` in ``machine``; returns the new start.
    ``comment(name)`` is the Comment of a state about parameter ``name`` (None: all of them)."""
    choice = ChoiceState(rules.check_state, comment=comment(None), default=entry)
    for check in rules.checks:
        if check.required:
            choice.choices.append(({"Not": {"Variable": f"$.{check.name}", "IsPresent": True}}, check.missing_state))
            machine.add(FailState(check.missing_state, comment=comment(check.name), error=INVALID_PARAMETER,
                                  cause=check.missing_cause))
        rule = wrong_type_rule(check)
        if rule is not None:
            choice.choices.append((rule, check.wrong_state))
            machine.add(FailState(check.wrong_state, comment=comment(check.name), error=INVALID_PARAMETER,
                                  cause=check.wrong_cause))
    start = entry
    if choice.choices:
        machine.add(choice)
        start = choice.name
    if rules.defaults:
        start = _merge(rules, machine, comment(None), start)
    return start
