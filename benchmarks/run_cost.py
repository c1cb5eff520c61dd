"""3. What a run costs: state transitions per executed step, from real execution histories.

Every example runs on LocalStack (its Step Functions interpreter, the step code as real
Lambda functions); its history's ``*StateEntered`` events are the transitions Step
Functions bills a Standard workflow for, and its ``TaskStateEntered`` events the steps
that ran (each fan-out item counts). The floor is 1.0: one Task state per step and nothing
else. A nested workflow counts as one step of its caller (its own run is its own
history). The dollars per 1,000 runs come from those transitions and the steps' Lambda
GB-seconds (billed memory x measured duration) at the dated prices of compiler/cost.py,
for Standard and for Express (billed per request and by the run's duration).
"""

from __future__ import annotations

from typing import Any

from compiler import compile_workflow
from compiler.cost import run_cost

from .core import Context, Figure
from .emulated import session

__all__ = ["run"]


def _examples(smoke: bool) -> list[tuple[Any, dict[str, Any]]]:
    from examples.approval_release import approval_release
    from examples.etl_s3 import etl_s3
    from examples.hpo_fanout import hpo_fanout
    from examples.ml_training import ml_training
    from examples.model_family import churn_baseline, churn_with_embeddings, churn_with_hpo

    if smoke:
        return [(etl_s3, {})]
    return [(ml_training, {}), (ml_training, {"min_auc": 0.99}), (hpo_fanout, {}), (etl_s3, {}),
            (etl_s3, {"key": "sales/broken.csv"}), (churn_baseline, {}), (churn_with_embeddings, {}),
            (churn_with_hpo, {}), (approval_release, {})]


def run(ctx: Context) -> list[Figure]:
    aws = session(ctx)
    if aws is None:
        return [Figure("cost", "transitions per executed step", None, "transitions/step", "one Task state a step",
                       1.0, "<= 1.2", None, "LocalStack not available: not measured")]
    from examples.etl_s3 import SAMPLE_OBJECTS

    for (bucket, key), text in SAMPLE_OBJECTS.items():
        aws.upload(bucket, key, text)
    figures: list[Figure] = []
    ratios: list[float] = []
    for definition, params in _examples(ctx.smoke):
        label = definition.name + "".join(f" {k}={v}" for k, v in params.items())
        ctx.say(f"cost: running {label} on LocalStack")
        arn = aws.start(definition, params)
        record = aws.wait(arn, approve=True)
        events = aws.history(arn)
        transitions = sum(1 for e in events if str(e["type"]).endswith("StateEntered"))
        steps = sum(1 for e in events if e["type"] == "TaskStateEntered")
        memory = {s.name: s.compute.memory for s in compile_workflow(definition).workflow.steps.values()}
        gb_seconds = sum(memory.get(s.step, 128) / 1024 * max(s.duration_ms, 1.0) / 1000
                         for s in record.steps.values())
        express = definition.options.type == "express"
        seconds = (record.duration_ms or 0.0) / 1000
        standard = 1000 * run_cost(transitions, gb_seconds, lambda_requests=steps)
        express_usd = 1000 * run_cost(transitions, gb_seconds, lambda_requests=steps, express=True,
                                      express_seconds=seconds)
        ratio = transitions / steps if steps else None
        if ratio is not None:
            ratios.append(ratio)
        figures.append(Figure(
            "cost", f"{label}: transitions/step", ratio, "transitions/step", "one Task state a step", 1.0,
            "<= 1.2", None if ratio is None else ratio <= 1.2,
            f"{transitions} transitions, {steps} steps, {record.status}; per 1,000 runs: Standard "
            f"${standard:.3f}, Express ${express_usd:.3f}" + (" (an Express workflow)" if express else "")))
    if ratios:
        mean = sum(ratios) / len(ratios)
        figures.append(Figure("cost", "mean transitions/step, all examples", mean, "transitions/step",
                              "one Task state a step", 1.0, "<= 1.2", mean <= 1.2, f"{len(ratios)} runs"))
    return figures
