"""The cost estimate: state transitions counted on the compiled state machine, Lambda
GB-seconds, Batch hours, runs a month from schedules, Express or not, and the command."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler import compile_workflow
from compiler.cost import PRICES, Assumptions, Estimate, cheapest_instance, estimate, monthly_runs, run_cost
from compiler.errors import CostError
from compiler.loader import load_workflows
from compiler.pipeline import CompiledWorkflow
from stepstone.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"


def compiled(spec: str) -> CompiledWorkflow:
    (workflow,) = load_workflows(str(ROOT / spec))
    return compile_workflow(workflow)


def from_golden(spec: str, golden: str) -> CompiledWorkflow:
    """The workflow with the golden ASL as its definition: the hand counts below are read off it."""
    result = compiled(spec)
    definition = json.loads((GOLDEN / golden).read_text(encoding="utf-8"))
    assert definition == result.definition, f"{golden} is out of date"
    return dataclasses.replace(result, definition=definition)


# --- state transitions ---------------------------------------------------------------------


def test_ml_training_transitions_match_a_hand_count() -> None:
    # tests/golden/ml_training.ml_training.asl.json, one transition a state entered:
    #   "parameter defaults" (Pass), "check parameters" (Choice: a valid input takes its Default),
    #   prod_initiation, "fetch_embedding + build_dataset" (Parallel), fetch_embedding,
    #   build_dataset, check_data_quality, "if not quality.passed" (Choice)          = 8
    #   bad data:  + notify_data_team, "return 'rejected-data'" (Pass)               = 10 (cheapest)
    #   good data: + train_model, check_model_quality, "if evaluation.auc ge ..."    = 11
    #     good model: + release_model                                               = 12
    #     bad model:  + notify_data_team_2, "return 'rejected-model'"               = 13 (costliest)
    # (a run refused by "check parameters" is no run to estimate: its Fail states are left out)
    result = estimate(from_golden("examples/ml_training.py", "ml_training.ml_training.asl.json"))
    assert (result.transitions.low, result.transitions.high) == (10, 13)
    # Lambda requests: 5 on the bad-data path, 6 on the bad-model path (train_model is Batch)
    assert (result.lambda_requests.low, result.lambda_requests.high) == (5, 6)


def test_hpo_fanout_transitions_match_a_hand_count() -> None:
    # tests/golden/hpo_fanout.hpo_fanout.asl.json:
    #   "parameter defaults" (Pass), "check parameters" (Choice)                    = 2
    #   "prepare_data + make_grid" (Parallel) + prepare_data + make_grid            = 3
    #   "map train_trial over trials" (Map)                                         = 1
    #     per item: train_trial, "item done" (Pass)                                 = 2 x 16 (declared max_length=16)
    #   pick_best, "segment_values = SEGMENTS" (Pass)                               = 2
    #   "for segment in SEGMENTS" (Map) + score_segment x 3 (a literal list)        = 4
    #   summarize, "if verdict.worst_segment_auc lt ..." (Choice)                   = 2
    #   register_model or "return 'rejected ...'" (Pass)                            = 1
    #   2 + 3 + 1 + 32 + 2 + 4 + 2 + 1                                              = 47 either way
    result = estimate(from_golden("examples/hpo_fanout.py", "hpo_fanout.hpo_fanout.asl.json"))
    assert (result.transitions.low, result.transitions.high) == (47, 47)
    assert {m.state: (m.items, m.source) for m in result.maps} == {
        "map train_trial over trials": (16, "the declared most"),
        "for segment in SEGMENTS": (3, "a literal list"),
    }


def test_approval_release_counts_the_nested_run_and_every_branch() -> None:
    # tests/golden/approval_release.approval_release.asl.json (+ .smoke_test.asl.json):
    #   every run: "parameter defaults" (Pass), "check parameters" (Choice)             = 2
    #   cheapest: + load_candidate, "if candidate.stage in ...", "return 'nothing to do'" = 5
    #   costliest: + load_candidate, Choice, "smoke_test + compare_to_production" (Parallel),
    #     smoke_test (the Task) + the child's 8 (its own two first states, deploy_canary,
    #     send_test_traffic, Parallel, teardown_canary, check_smoke, the return Pass),
    #     compare_to_production, "if not smoke.passed", request_review, "if not review.ready",
    #     approve_decision, "if decision.approved", promote or archive_3                  = 21
    result = estimate(from_golden("examples/approval_release.py:approval_release",
                                  "approval_release.approval_release.asl.json"))
    assert (result.transitions.low, result.transitions.high) == (5, 21)
    assert [n.workflow for n in result.nested] == ["smoke_test"]
    assert (result.nested[0].transitions.low, result.nested[0].transitions.high) == (8, 8)


def test_a_catch_handler_is_a_way_through() -> None:
    # etl_s3, after "parameter defaults" and "check parameters" (2):
    #   download, parse_csv (fails) -> quarantine, "return 'quarantined'"           = 2 + 4 = 6
    #   download, parse_csv, clean_rows, load_to_warehouse, two Choices, report_rejects,
    #   "return summary.table"                                                      = 2 + 8 = 10
    result = estimate(from_golden("examples/etl_s3.py", "etl_s3.etl_s3.asl.json"))
    assert (result.transitions.low, result.transitions.high) == (6, 10)


EXPECTED = {  # (cheapest, costliest) state transitions of one run, with the default assumptions
    # (each run's two first states included: the defaults and the input checks)
    "examples/ml_training.py": (10, 13),
    "examples/etl_s3.py": (6, 10),
    "examples/hpo_fanout.py": (47, 47),
    "examples/approval_release.py:approval_release": (5, 21),
    "examples/approval_release.py:smoke_test": (8, 8),
    "examples/model_family.py:churn_baseline": (8, 9),
    "examples/model_family.py:churn_with_embeddings": (10, 11),
    "examples/model_family.py:churn_with_hpo": (9, 13),
}


@pytest.mark.parametrize("spec", sorted(EXPECTED))
def test_every_example_is_estimated(spec: str) -> None:
    result = estimate(compiled(spec))
    assert (result.transitions.low, result.transitions.high) == EXPECTED[spec]
    assert 0 < result.standard_usd.low <= result.standard_usd.high
    assert result.lambda_gb_seconds.low > 0
    assert result.steps and all(s.seconds > 0 for s in result.steps)


def test_a_map_multiplies_by_its_items() -> None:
    # hpo_fanout without the first Map's items: 15 transitions; each item adds train_trial + "item done"
    workflow = compiled("examples/hpo_fanout.py")
    for items in (1, 6, 12):
        result = estimate(workflow, Assumptions(items=items))
        assert result.transitions.high == 15 + 2 * items
        assert result.gpu_hours.high == pytest.approx(items * 0.5)  # 1 GPU x the 30-minute default
        (trials,) = [m for m in result.maps if m.state == "map train_trial over trials"]
        assert trials.items == items
    # a literal list keeps its length under --items N; a fan-out can be named by a step it runs;
    # more than the declared most is capped
    result = estimate(workflow, Assumptions(items=1))
    assert {m.state: m.items for m in result.maps} == {"for segment in SEGMENTS": 3,
                                                       "map train_trial over trials": 1}
    result = estimate(workflow, Assumptions(items_by_map={"score_segment": 2, "train_trial": 40}))
    assert {m.state: m.items for m in result.maps} == {"for segment in SEGMENTS": 2,
                                                       "map train_trial over trials": 16}
    # four at a time (max_concurrency=4): 16 items of 30 minutes take four waves
    assert estimate(workflow).seconds.high >= 4 * 1800


def test_the_cheapest_and_the_costliest_way_through_a_choice() -> None:
    result = estimate(compiled("examples/ml_training.py"), Assumptions(durations={"train_model": 3600}))
    # the bad-data branch skips the GPU: no Batch hours; the others train for an hour on one g5.4xlarge
    assert (result.gpu_hours.low, result.gpu_hours.high) == (0, 1)
    assert result.standard_usd.low == pytest.approx(10 * 0.000025 + 5 * 0.0000002 + 6 * 0.0000166667)
    assert result.standard_usd.high == pytest.approx(13 * 0.000025 + 6 * 0.0000002 + 7 * 0.0000166667 + 1.624)


def test_gb_seconds_are_memory_over_1024_times_seconds() -> None:
    workflow = compiled("examples/ml_training.py")
    base = estimate(workflow)
    longer = estimate(workflow, Assumptions(durations={"build_dataset": 10}))  # Lambda(memory=2048)
    assert longer.lambda_gb_seconds.low - base.lambda_gb_seconds.low == pytest.approx(2048 / 1024 * (10 - 1))
    (step,) = [s for s in longer.steps if s.state == "build_dataset"]
    assert (step.memory_mb, step.seconds, step.source) == (2048, 10, "--duration")


def test_a_duration_never_passes_the_timeout() -> None:
    result = estimate(compiled("examples/ml_training.py"),
                      Assumptions(durations={"train_model": 10 * 3600, "fetch_embedding": 500}))
    steps = {s.state: s for s in result.steps}
    assert (steps["train_model"].seconds, steps["train_model"].capped) == (4 * 3600, True)  # timeout=4 * 3600
    assert (steps["fetch_embedding"].seconds, steps["fetch_embedding"].capped) == (120, True)  # timeout=120


def test_an_unknown_step_name_says_which_exist() -> None:
    with pytest.raises(CostError, match=r"no step named 'train_modl' \(did you mean 'train_model'\?\)") as info:
        estimate(compiled("examples/ml_training.py"), Assumptions(durations={"train_modl": 60}))
    assert info.value.hint is not None and "train_model" in info.value.hint
    with pytest.raises(CostError, match="no fan-out named"):
        estimate(compiled("examples/hpo_fanout.py"), Assumptions(items_by_map={"nope": 3}))


# --- Batch -----------------------------------------------------------------------------------


def test_the_cheapest_instance_that_fits() -> None:
    assert cheapest_instance(1, 4, 15_000).name == "g6.xlarge"
    assert cheapest_instance(1, 4, 16_384).name == "g6.2xlarge"  # 16 GiB instances keep some memory back
    assert cheapest_instance(1, 8, 32_768).name == "g5.4xlarge"
    assert cheapest_instance(2, 8, 16_000).name == "g6.12xlarge"
    with pytest.raises(CostError, match="no instance"):
        cheapest_instance(8, 8, 16_000)
    assert cheapest_instance(8, 96, 700_000, families=["p4d"]).name == "p4d.24xlarge", "the families a step names"
    assert cheapest_instance(0, 2, 4_000).name == "m6i.large", "a CPU job is priced on a CPU instance"
    assert cheapest_instance(0, 4, 8_000).name == "m6i.xlarge", "c6i.xlarge's 8 GiB keep some back"


def test_the_price_table_is_dated_and_placed() -> None:
    assert PRICES.date and PRICES.region == "us-east-1" and PRICES.instances


# --- a month ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "runs"), [
    ("cron(0 3 * * ? *)", 30),
    ("rate(1 hour)", 720),
    ("rate(1 day)", 30),
    ("rate(15 minutes)", 2880),
    ("cron(0 1 1 * ? *)", 12 * 30 / 365),  # the 1st of each month
    ("cron(0 4 ? * MON *)", 52 * 30 / 365),  # 2027, the year counted, has 52 Mondays
    ("cron(0/30 9-17 ? * MON-FRI *)", 2 * 9 * 261 * 30 / 365),  # 261 weekdays in 2027
    ("cron(0 12 L * ? *)", 12 * 30 / 365),
    ("cron(0 9 LW * ? *)", 12 * 30 / 365),
    ("cron(0 9 15W * ? *)", 12 * 30 / 365),
    ("cron(0 12 ? * 2L *)", 12 * 30 / 365),  # the last Monday of each month
    ("cron(0 12 ? * 6#5 *)", 5 * 30 / 365),  # a fifth Friday: 2027 has 53 Fridays, so 5 months have one
    ("cron(0 12 ? JAN-MAR 1 *)", 13 * 30 / 365),  # Sundays of the first quarter of 2027
])
def test_runs_a_month(expression: str, runs: float) -> None:
    assert monthly_runs(expression) == pytest.approx(runs)


def test_a_month_is_the_schedules_plus_the_runs_given() -> None:
    workflow = compiled("examples/ml_training.py")
    assert estimate(workflow).runs_per_month == 30
    assert estimate(workflow, Assumptions(runs_per_month=100)).runs_per_month == 130
    assert estimate(compiled("examples/etl_s3.py")).runs_per_month is None  # an S3 trigger only


# --- Express ---------------------------------------------------------------------------------


def test_express_is_impossible_with_a_task_token_or_a_nested_run() -> None:
    result = estimate(compiled("examples/approval_release.py:approval_release"))
    assert result.express_usd is None
    reasons = " ".join(result.express_blockers)
    assert "approval (task token)" in reasons
    assert "smoke_test: an Express workflow cannot wait for another workflow (.sync)" in reasons


NESTED = '''
from stepstone import Lambda, step, workflow


@step(compute=Lambda(timeout=10))
def double(n: int) -> int:
    return 2 * n


@workflow(timeout=60)
def child(n: int = 1) -> int:
    return double(n)


@workflow(timeout=60)
def parent(n: int = 1) -> int:
    return child(n=n)
'''


def test_express_is_impossible_for_a_nested_sync_run_alone(tmp_path: Path) -> None:
    (tmp_path / "nested_flows.py").write_text(NESTED, encoding="utf-8")
    (child,) = load_workflows(f"{tmp_path / 'nested_flows.py'}:child")
    (parent,) = load_workflows(f"{tmp_path / 'nested_flows.py'}:parent")
    assert estimate(compile_workflow(child)).express_possible  # 10 s at most, no .sync: it could be Express
    result = estimate(compile_workflow(parent))
    assert result.express_blockers == ("child: an Express workflow cannot wait for another workflow (.sync)",)
    # the parent's two first states and its Task, then the child's run: its two first states, and
    # double with its return folded into one Task
    assert result.nested[0].transitions.low == 2 + 1
    assert result.transitions.low == 2 + 1 + result.nested[0].transitions.low


def test_express_where_it_is_possible() -> None:
    result = estimate(compiled("examples/etl_s3.py"))
    assert result.express_possible and result.express_usd is not None
    # a run of at most 5 s at 64 MB: $1 a million requests + 5 s x 1/16 GB x $0.00001667
    work = PRICES.lambda_usd(result.lambda_requests.high, result.lambda_gb_seconds.high)
    assert result.express_usd.high == pytest.approx(0.000001 + 5 * 64 / 1024 * 0.00001667 + work)
    assert result.express_usd.high < result.standard_usd.high


# --- a finished run ---------------------------------------------------------------------------


def test_run_cost_from_real_counts() -> None:
    standard = run_cost(10, 5.0, lambda_requests=5)
    assert standard == pytest.approx(10 * 0.000025 + 5 * 0.0000002 + 5 * 0.0000166667)
    assert run_cost(10, 5.0, lambda_requests=5, batch_hours={"g6.xlarge": 2}) == pytest.approx(standard + 1.6096)
    express = run_cost(10, 5.0, lambda_requests=5, express=True, express_seconds=1.25)
    assert express == pytest.approx(0.000001 + 1.3 * 64 / 1024 * 0.00001667 + 5 * 0.0000002 + 5 * 0.0000166667)
    with pytest.raises(CostError, match=r"no price for instance type 'trn1\.32xlarge'"):
        run_cost(1, 0, batch_hours={"trn1.32xlarge": 1})


# --- the command -----------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["cost", *args])


def test_cost_command_prints_a_table_that_fits_80_columns() -> None:
    result = invoke(str(ROOT / "examples" / "ml_training.py"))
    assert result.exit_code == 0, result.output
    assert "state transitions" in result.stdout and "10–13" in result.stdout
    assert "a month (30 runs)" in result.stdout and "1,000 runs" in result.stdout
    assert "Express, $" in result.stdout and "not possible" in result.stdout
    assert "train_model" in result.stdout and "g5.4xlarge" in result.stdout
    assert f"prices: us-east-1 list prices as of {PRICES.date}" in result.stdout
    assert "retries are not counted" in result.stdout and "free tiers" in result.stdout
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80


def test_cost_command_json() -> None:
    result = invoke(str(ROOT / "examples" / "hpo_fanout.py"), "--json", "--items", "6", "--runs-per-month", "4",
                    "--duration", "train_trial=20m")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"workflow", "type", "prices", "per_run", "express", "per_month", "per_1000_runs", "steps",
                           "maps", "assumptions"}
    assert report["per_run"]["transitions"] == {"min": 27, "max": 27}  # 15 + 2 x 6 items
    assert report["per_run"]["gpu_hours"] == {"min": 2, "max": 2}  # 6 trials x 20 minutes
    assert report["per_month"]["runs"] == 4
    assert report["per_month"]["standard_usd"]["max"] == pytest.approx(4 * report["per_run"]["standard_usd"]["max"],
                                                                       rel=1e-5)
    assert report["express"]["possible"] is False and report["per_run"]["express_usd"] is None
    (trial,) = [s for s in report["steps"] if s["state"] == "train_trial"]
    assert trial["seconds"] == 1200 and trial["source"] == "--duration" and trial["instance"] == "g6.2xlarge"
    assert report["prices"]["date"] == PRICES.date


def test_cost_command_bad_duration_is_one_line_and_exit_2() -> None:
    result = invoke(str(ROOT / "examples" / "ml_training.py"), "--duration", "train_model:60")
    assert result.exit_code == 2
    assert "error: --duration 'train_model:60' is not STEP=SECONDS" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.output
    unknown = invoke(str(ROOT / "examples" / "ml_training.py"), "--duration", "trian_model=60")
    assert unknown.exit_code == 2
    assert "error: ml_training has no step named 'trian_model' (did you mean 'train_model'?)" in unknown.stderr
    assert "Traceback" not in unknown.output


def test_cost_command_help_has_an_example() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Example" in result.output and "stepstone cost examples/ml_training.py" in result.output


def test_cost_command_takes_durations_from_a_recorded_run(tmp_path: Path) -> None:
    from lambdas.store import LocalStore
    from stepstone.local.records import save_run
    from stepstone.records import RunRecord, StepRecord

    record = RunRecord(run_id="20261122-101010-beef", workflow="ml_training", ref="examples.ml_training:ml_training",
                       file="examples/ml_training.py", status="succeeded", steps={
                           "prod_initiation": StepRecord(state="prod_initiation", step="prod_initiation",
                                                         status="succeeded", attempts=1, duration_ms=3000),
                           "build_dataset": StepRecord(state="build_dataset", step="build_dataset",
                                                       status="succeeded", attempts=2, duration_ms=8000)})
    save_run(record, LocalStore(tmp_path))
    result = invoke(str(ROOT / "examples" / "ml_training.py"), "--from-run", "20261122-101010", "--home",
                    str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    steps = {s["state"]: s for s in json.loads(result.stdout)["steps"]}
    assert (steps["prod_initiation"]["seconds"], steps["prod_initiation"]["source"]) == (3, "recorded")
    assert (steps["build_dataset"]["seconds"], steps["build_dataset"]["source"]) == (4, "recorded")  # an attempt's
    assert steps["train_model"]["source"] == "default"
    missing = invoke(str(ROOT / "examples" / "ml_training.py"), "--from-run", "nope", "--home", str(tmp_path))
    assert missing.exit_code == 2 and "no run 'nope'" in missing.stderr


def test_estimate_is_deterministic() -> None:
    workflow = compiled("examples/approval_release.py:approval_release")
    first: Estimate = estimate(workflow)
    assert first.to_json() == estimate(workflow).to_json()


def test_many_ways_through_keep_exact_bounds() -> None:
    # twelve Parallel branches, each a Choice between one Pass and two: 4,096 ways through, which
    # the estimate does not keep one by one, yet each bound is exact: 1 + 12 x (1 + 1..2) + 1
    def branch(i: int) -> dict[str, Any]:
        return {"StartAt": f"c{i}", "States": {
            f"c{i}": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": f"a{i}"}],
                      "Default": f"b{i}"},
            f"a{i}": {"Type": "Pass", "End": True},
            f"b{i}": {"Type": "Pass", "Next": f"d{i}"},
            f"d{i}": {"Type": "Wait", "Seconds": i, "End": True}}}

    definition = {"StartAt": "all", "States": {
        "all": {"Type": "Parallel", "Branches": [branch(i) for i in range(12)], "Next": "done"},
        "done": {"Type": "Succeed"}}}
    workflow = dataclasses.replace(compiled("examples/approval_release.py:smoke_test"), definition=definition)
    result = estimate(workflow)
    assert (result.transitions.low, result.transitions.high) == (1 + 12 * 2 + 1, 1 + 12 * 3 + 1)
    assert (result.seconds.low, result.seconds.high) == (0, 11)  # the branches overlap; the longest waits 11 s
    assert len(result.paths) < 4096
