"""A Parallel branch that fails stops its siblings; a sibling's Task caught half-way through
its setup must then not run (moto 5.2.5 ran it with values popped off a stack nothing had
pushed: a Lambda invoked with a half-built Payload, a TaskScheduled event whose timeout was
the state's input). stepstone/testing/moto_sfn.py patches that (patch 7); this test widens
the race window with a pause while the sibling's Payload is being built, so that without the
patch about one run in two goes wrong, and checks ten runs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (
    PayloadBinding,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

from stepstone.testing.moto_sfn import LambdaError, MotoStepFunctions


def task(name: str, function: str) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "TimeoutSeconds": 300,
            "Parameters": {"FunctionName": "${Function_" + function + "}", "Payload": {"state": name, "in.$": "$"}},
            "ResultSelector": {"out.$": "$.Payload"}, "End": True}


# branch A fails at once while branch B's fan-out schedules its tasks
DEFINITION = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "A", "States": {"A": task("A", "fail")}},
    {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.grid", "End": True,
                                      "ItemSelector": {"x.$": "$$.Map.Item.Value"},
                                      "ItemProcessor": {"StartAt": "B", "States": {"B": task("B", "ok")}}}}}]}}}


def fail(event: Any) -> Any:
    raise LambdaError("Boom", "fails at once")


def test_a_task_stopped_half_way_through_its_setup_is_not_run(moto: MotoStepFunctions,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def slow_binding(self: Any, env: Any) -> Any:  # a pause as B's Payload binds its "state" field
        if getattr(self, "field", None) == "state" and "x" in (env.states.get_input() or {}) \
                and "_exec_and_notify" in threading.current_thread().name:
            time.sleep(0.05)
        return EvalComponent.eval(self, env)

    monkeypatch.setattr(PayloadBinding, "eval", slow_binding)
    for _ in range(10):
        run = moto.run(DEFINITION, {"grid": [0, 1, 2]}, handlers={"fail": fail, "ok": lambda event: {"v": 1}})
        assert (run.status, run.error) == ("FAILED", "Boom")
        assert all("state" in call["event"] for call in run.calls), [call["event"] for call in run.calls]
        scheduled = [event["taskScheduledEventDetails"] for event in run.history
                     if event["type"] == "TaskScheduled"]
        assert all(isinstance(details.get("timeoutInSeconds", 0), int) for details in scheduled), scheduled
