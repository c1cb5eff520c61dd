"""What each construct of the workflow body compiles to, checked on the ASL's structure."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

import stepstone
from compiler import compile_workflow
from compiler.deployment.plan import plan_deployment
from compiler.deployment.profile import LOCALSTACK_PROFILE
from compiler.parse import parse_workflow
from stepstone import Batch, Retry, approve, step, workflow
from tests.support.asl import body_start


class Params(BaseModel):
    threshold: float = 0.5
    grid: Annotated[list[int], Field(max_length=4)] = [1, 2]
    files: list[str] = ["a"]


class Out(BaseModel):
    score: float = 0.0
    ok: bool = True
    status: str = "a"


class Flaky(Exception):
    pass


class Broken(Exception):
    pass


@step
def start(p: Params) -> Out:
    return Out(score=p.threshold + 1)


@step(retry=Retry(attempts=3, interval=2, backoff=1.5, max_delay=30, jitter=True, on=[Flaky]))
def one(a: Out) -> Out:
    return Out(score=a.score + 1, ok=a.score + 1 > 0)


@step
def two(a: Out, b: Out) -> Out:
    return Out(score=a.score + b.score)


@step
def leaf(x: int) -> Out:
    return Out(score=x)


@step
def names() -> list[str]:
    return ["a", "b"]


@step
def per_name(name: str) -> Out:
    return Out(status=name)


@step
def collect(xs: list[Out]) -> Out:
    return Out(score=sum(x.score for x in xs))


@step(compute=Batch(gpus=1), timeout=3600)
def gpu(a: Out) -> Out:
    return Out(score=a.score * 2)


@step
def note(a: Out) -> None:
    return None


@step
def recover(error: Exception) -> Out:
    return Out(status=type(error).__name__)


def states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of a definition by name, nested branches and item processors included."""
    found: dict[str, dict[str, Any]] = {}
    stack = [definition]
    while stack:
        machine = stack.pop()
        for name, state in machine["States"].items():
            found[name] = state
            stack.extend(state.get("Branches", []))
            if "ItemProcessor" in state:
                stack.append(state["ItemProcessor"])
    return found


def asl(wf: Any) -> dict[str, Any]:
    return compile_workflow(wf).definition


@workflow
def independent(params: Params) -> Out:
    a = start(params)
    b = one(a)
    c = one(a)  # independent of b: runs beside it
    return two(b, c)


def test_independent_calls_run_in_parallel_and_statement_order_does_not_serialize() -> None:
    definition = asl(independent)
    top = definition["States"]
    assert body_start(definition) == "start"
    parallel = top[top["start"]["Next"]]
    assert parallel["Type"] == "Parallel"
    assert sorted(b["StartAt"] for b in parallel["Branches"]) == ["one", "one_2"]
    assert parallel["ResultSelector"] == {"b.$": "$[0].vars.b", "c.$": "$[1].vars.c"}
    assert parallel["Parameters"]["vars"] == {"a.$": "$.vars.a"}
    assert top[parallel["Next"]]["Parameters"]["Payload"]["args"] == {
        "a": {"result.$": "$.vars.b"}, "b": {"result.$": "$.vars.c"}}


@workflow
def ordered(params: Params) -> None:
    a = start(params)
    b = one(a)
    note(a, after=[b])


def test_after_orders_without_data() -> None:
    top = asl(ordered)["States"]
    assert top["start"]["Next"] == "one"
    assert top["one"]["Next"] == "note"


@workflow
def gate(params: Params) -> str:
    a = start(params)
    side = one(a)
    if not a.ok:
        note(a)
        return "rejected"
    return two(a, side).status


def test_an_early_return_orders_what_comes_after_it() -> None:
    top = asl(gate)["States"]
    choice = top["if not a.ok"]
    assert choice["Type"] == "Choice"
    assert choice["Choices"] == [{"BooleanEquals": False, "Next": "note", "Variable": "$.vars.a.fields.ok"}]
    assert top["note"]["Next"] == "return 'rejected'"
    assert top["return 'rejected'"]["Result"] == {"fields": {}, "ref": None, "value": "rejected"}
    assert choice["Default"] == "two"
    ir = parse_workflow(gate)
    (barrier,) = [i for i, u in enumerate(ir.body.units) if u.ends and u.node.name.startswith("if")]
    assert all(barrier in ir.body.deps[j] for j in range(barrier + 1, len(ir.body.units)))
    assert set(range(barrier)) <= ir.body.deps[barrier], "everything before the return has run when it returns"


@workflow
def merged(params: Params) -> Out:
    a = start(params)
    if a.score > params.threshold:
        b = one(a)
    elif a.status in ("x", "y"):
        b = two(a, a)
    else:
        b = leaf(3)
    return b


def test_a_variable_assigned_in_every_branch_is_stored_in_one_place() -> None:
    found = states(asl(merged))
    choice = found["if a.score gt params.threshold or a.status in ('x' 'y')"]
    assert choice["Choices"][0]["NumericGreaterThanPath"] == "$.threshold"
    assert choice["Choices"][1]["Or"] == [
        {"StringEquals": "x", "Variable": "$.vars.a.fields.status"},
        {"StringEquals": "y", "Variable": "$.vars.a.fields.status"},
    ]
    assert {found[n]["ResultPath"] for n in ("one", "two", "leaf")} == {"$.vars.b"}
    assert not [s for s in found.values() if s["Type"] == "Pass" and "b =" in str(s)]


@workflow
def kept(params: Params) -> Out:
    a = start(params)
    b = one(a)
    if a.ok:
        b = two(a, b)
    return b


def test_a_branch_that_keeps_an_earlier_value_copies_it() -> None:
    found = states(asl(kept))
    copy = next(s for n, s in found.items() if s["Type"] == "Pass" and n.startswith("b ="))
    assert copy["InputPath"] == "$.vars.b"
    assert copy["ResultPath"] == found["two"]["ResultPath"] != "$.vars.b"


@workflow
def fan_modes(params: Params) -> Out:
    scores = [leaf(x) for x in params.grid]
    each = []
    for name in params.files:
        each.append(per_name(name))
    listed = stepstone.map(per_name, names(), max_items=3, max_concurrency=2)
    note(collect(each))
    note(collect(listed))
    return collect(scores)


def test_fan_out_modes() -> None:
    found = states(asl(fan_modes))
    inline = found["for x in params.grid"]
    assert inline["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert inline["ItemsPath"] == "$.grid"
    assert inline["ItemSelector"]["vars"] == {"x.$": "$$.Map.Item.Value"}
    assert inline["ItemProcessor"]["States"]["leaf"]["OutputPath"] == "$.vars.leaf_result"
    distributed = found["for name in params.files"]
    assert distributed["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert distributed["ResultWriter"]["Resource"] == "arn:aws:states:::s3:putObject"
    assert distributed["ResultSelector"]["ref.$"] == "$.ResultWriterDetails.Key"
    mapped = found["map per_name over names()"]
    assert mapped["MaxConcurrency"] == 2
    assert mapped["ItemsPath"] == "$.vars.names_result.value"
    assert found["names"]["Parameters"]["Payload"]["store"] == "inline", "the list must stay in the state"
    assert found["collect"]["Parameters"]["Payload"]["args"]["xs"] in (
        {"result.$": "$.vars.each"}, {"results.$": "$.vars.scores"}, {"result.$": "$.vars.listed"})


@workflow
def guarded(params: Params) -> Out:
    a = start(params)
    try:
        b = one(a)
        if not b.ok:
            raise Broken("not ok")
    except Broken as e:
        b = recover(e)
    except Exception:
        raise
    return b


def test_try_except_becomes_catch_and_a_raise_inside_jumps_to_its_handler() -> None:
    found = states(asl(guarded))
    catch = found["one"]["Catch"]
    assert [c["ErrorEquals"] for c in catch] == [["Broken"], ["States.ALL"]]
    assert catch[0]["ResultPath"] == "$.vars.e"
    jump = found["raise Broken"]
    assert jump["Type"] == "Pass" and jump["Next"] == catch[0]["Next"]
    assert jump["Result"] == {"Cause": "not ok", "Error": "Broken"}
    assert found["recover"]["Parameters"]["Payload"]["args"] == {"error": {"error.$": "$.vars.e"}}
    assert found["one"]["Parameters"]["Payload"]["error_names"] == ["Broken", "Flaky"], \
        "the runner reports subclasses under the names Retry and Catch match"
    rethrow = found["raise"]
    assert rethrow["Type"] == "Fail" and rethrow["ErrorPath"].endswith(".Error")
    retry = found["one"]["Retry"]
    assert retry[-1] == {"BackoffRate": 1.5, "ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "JitterStrategy": "FULL",
                         "MaxAttempts": 2, "MaxDelaySeconds": 30}


@workflow
def child(threshold: float = 0.5, label: str = "x") -> Out:
    return leaf(1)


@workflow
def parent(params: Params) -> None:
    a = start(params)
    decision = approve("Ship it?")
    if decision.approved:
        child(threshold=a.score)
    b = gpu(a)
    note(b)


def test_nested_runs_approvals_and_batch_steps() -> None:
    found = states(asl(parent))
    nested = found["child"]
    assert nested["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert nested["Parameters"]["Input"] == {
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
        "label": "x", "threshold.$": "$.vars.a.fields.score"}
    gate_state = found["approve_decision"]
    assert gate_state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert gate_state["Parameters"]["Payload"]["token.$"] == "$$.Task.Token"
    assert found["if decision.approved"]["Choices"][0]["Variable"] == "$.vars.decision.approved"
    batch = found["gpu"]
    assert batch["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    assert batch["ResultPath"] is None
    assert found["start"]["Parameters"]["Payload"]["store"] == "always", "Batch takes inputs from S3"
    assert found["note"]["Parameters"]["Payload"]["args"]["a"]["result"]["ref.$"] == (
        "States.Format('runs/parent/{}/gpu/output.json', $$.Execution.Name)")


def test_batch_steps_run_as_lambda_where_there_is_no_batch() -> None:
    """LocalStack has no Batch: the same machine with the GPU step invoking the runner, which
    writes the output where the job would, so every other state is unchanged."""
    def without_gpu(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: "<gpu>" if k == "gpu" else without_gpu(v) for k, v in node.items()}
        return [without_gpu(v) for v in node] if isinstance(node, list) else node

    normal = asl(parent)
    substituted = compile_workflow(parent, profile=LOCALSTACK_PROFILE).definition
    found = states(substituted)
    gpu = found["gpu"]
    assert gpu["Resource"] == "arn:aws:states:::lambda:invoke"
    assert gpu["Parameters"]["FunctionName"] == "${Function_gpu}"
    assert gpu["Parameters"]["Payload"]["batch"] is True
    assert gpu["ResultPath"] is None and "ResultSelector" not in gpu
    assert without_gpu(substituted) == without_gpu(normal)


def test_calling_a_workflow_directly_runs_it_as_python() -> None:
    assert merged(Params()).score == 2.5
    assert merged({"threshold": 100}).score == 102.0, "a dict is validated into the parameters model"
    assert guarded(Params()).score == 2.5
    assert guarded(Params(threshold=-2.0)).status == "Broken", "the except path runs in plain Python too"
    with pytest.raises(Exception, match="threshold"):
        merged({"threshold": "high"})


def test_unused_results_are_not_stored() -> None:
    found = states(asl(ordered))
    assert found["note"]["ResultPath"] is None


def test_payload_limit_is_proved_and_explained() -> None:
    compiled = compile_workflow(independent)
    assert 1024 <= compiled.sizes.inline_limit <= 32 * 1024
    assert compiled.sizes.worst_bytes <= 256 * 1024
    payload = compiled.definition["States"]["start"]["Parameters"]["Payload"]
    assert payload["inline_limit"] == compiled.sizes.inline_limit


@workflow
def n_shape(params: Params) -> None:
    a = start(params)
    b = leaf(1)
    note(one(a))        # c: needs a
    note(two(a, b))     # d: needs a and b, which no series-parallel layout gives without an extra ordering


def test_a_dag_that_is_not_series_parallel_gets_one_ordering_and_says_so() -> None:
    from compiler.explain import explain

    compiled = compile_workflow(n_shape)
    layout = compiled.planner.layout(compiled.workflow.body)
    assert len(layout.added) == 1
    assert layout.makespan == layout.critical_path, "the added ordering costs nothing here"
    text = explain(compiled)
    assert "orderings added (Step Functions runs only series-parallel graphs):" in text
    assert "now waits for" in text
    found = states(compiled.definition)
    assert {"start", "leaf", "one", "two", "note", "note_2"} <= set(found)


def test_what_the_deployment_must_provide() -> None:
    """Both deployers render this plan: a function (shared) or a job definition per step, and
    each resource the definition names, as the emitter named it."""
    plan = plan_deployment([parent])
    spec = plan.state_machine("parent")
    assert [(j.step, j.gpus) for j in plan.jobs] == [("gpu", 1)]
    assert spec.functions["start"].timeout == 300 and "gpu" not in spec.functions
    assert spec.calls == ("child",)
    assert spec.compiled.approval and spec.compiled.batch
    assert {r.placeholder for r in spec.resources} == {"ApprovalFunction", "Function_note", "Function_start",
                                                       "JobDefinition_gpu", "JobQueue_gpu", "Workflow_child"}
    on_localstack = plan_deployment([parent], LOCALSTACK_PROFILE)
    assert not on_localstack.jobs and on_localstack.state_machine("parent").functions["gpu"].timeout == 900, \
        "no Batch on LocalStack: the GPU step runs as Lambda, as long as Lambda allows"


@workflow
def caught_in_parallel(params: Params) -> Out:
    a = start(params)
    try:
        b = one(a)          # two independent steps: a Parallel inside the try
        c = leaf(2)
        d = two(b, c)
    except Broken:
        d = leaf(0)
    return d


def test_steps_inside_a_parallel_report_errors_under_the_names_an_outer_except_catches() -> None:
    found = states(asl(caught_in_parallel))
    parallel = next(s for s in found.values() if s["Type"] == "Parallel")
    assert parallel["Catch"][0]["ErrorEquals"] == ["Broken"]
    assert found["leaf"]["Parameters"]["Payload"]["error_names"] == ["Broken"]
    assert found["one"]["Parameters"]["Payload"]["error_names"] == ["Broken", "Flaky"]


def test_a_nested_workflow_result_has_the_fields_of_its_return_type() -> None:
    """`from __future__ import annotations` makes annotations strings; they are resolved."""
    import local_flows

    found = states(asl(local_flows.parent))
    assert found["return result.n"]["Parameters"]["value.$"] == "$.vars.result.fields.n"
