"""``cache=True`` steps: a result is reused only for the same code (the step's, the project code
it calls, the versions of the packages it uses) on the same inputs, and within its lifetime;
lineage keeps why a step ran, ``stepstone show`` prints it, and ``--refresh-cache`` clears the
workflow's cached results."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from compiler.dsl.errors import CompileError
from compiler.protocol import CacheRecord, StepPayload
from lambdas import codehash
from lambdas.runner import run_step
from lambdas.store import LocalStore
from stepstone import step
from stepstone.cli import main

ROOT = Path(__file__).resolve().parents[2]


@step(cache=True)
def doubled(n: int) -> int:
    return 2 * n


@step(cache=timedelta(hours=1))
def fresh(n: int) -> int:
    return n + 1


@step(cache=True)
def normed(n: int) -> float:
    return float(np.linalg.norm(np.arange(n)))


def payload(name: str, n: int, run: str) -> StepPayload:
    return StepPayload.decode({"step": f"{__name__}:{name}", "workflow": "wf", "state": name, "run": run,
                               "args": {"n": {"value": n}}})


def lineage(store: LocalStore, run: str, state: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(store.read(f"runs/wf/{run}/{state}/attempt-0/lineage.json"))
    return document


def test_a_miss_says_why_and_a_hit_names_its_record(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    run_step(payload("doubled", 2, "r1"), store)
    assert lineage(store, "r1", "doubled")["cache_miss"].startswith("no cached result yet")
    run_step(payload("doubled", 2, "r2"), store)
    assert lineage(store, "r2", "doubled")["status"] == "cached" and "cache_miss" not in lineage(store, "r2", "doubled")
    run_step(payload("doubled", 3, "r3"), store)
    assert lineage(store, "r3", "doubled")["cache_miss"] == "the inputs changed"


def test_a_package_upgrade_runs_a_cached_step_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    run_step(payload("normed", 4, "r1"), store)
    run_step(payload("normed", 4, "r2"), store)
    assert lineage(store, "r2", "normed")["status"] == "cached"
    real = codehash.distribution_version
    # stands in for `pip install numpy==<next>` and a new process (the walk is kept per function object)
    monkeypatch.setattr(codehash, "distribution_version", lambda name: "99.0" if name == "numpy" else real(name))
    monkeypatch.setattr(codehash, "_walked", type(codehash._walked)())
    run_step(payload("normed", 4, "r3"), store)
    assert lineage(store, "r3", "normed")["cache_miss"].startswith("the code changed")
    assert lineage(store, "r3", "normed")["code_hash"] != lineage(store, "r1", "normed")["code_hash"]


def test_a_result_older_than_the_lifetime_is_not_reused_and_is_replaced(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    run_step(payload("fresh", 1, "r1"), store)
    (key,) = store.keys("cache/wf/fresh/")
    record = CacheRecord.decode(store.read(key))
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="milliseconds")
    store.write(key, CacheRecord(record.envelope, record.output, record.lineage, created=two_hours_ago).encode())
    run_step(payload("fresh", 1, "r2"), store)
    assert lineage(store, "r2", "fresh")["cache_miss"].startswith("expired: the result was 2.0 h old")
    assert CacheRecord.decode(store.read(key)).lineage == "runs/wf/r2/fresh/attempt-0/", "the new result replaced it"
    run_step(payload("fresh", 1, "r3"), store)
    assert lineage(store, "r3", "fresh")["status"] == "cached"


@pytest.mark.parametrize("bad", [0, -5, "weekly"])
def test_a_cache_lifetime_must_be_a_positive_duration(bad: Any) -> None:
    def work(n: int) -> int:
        return n

    with pytest.raises(CompileError) as refused:
        step(cache=bad)(work)
    assert refused.value.rule == "bad-option" and "cache=" in str(refused.value)


def test_show_says_why_and_refresh_cache_runs_cached_steps_again(tmp_path: Path) -> None:
    home = str(tmp_path / ".stepstone")
    cli = CliRunner()
    example = str(ROOT / "examples" / "ml_training.py")
    for _ in range(2):
        assert cli.invoke(main, ["run", example, "--home", home]).exit_code == 0
    listed = cli.invoke(main, ["runs", "--home", home, "--json"]).output
    newest = json.loads(listed)[0]["run"]
    shown = cli.invoke(main, ["show", newest, "--home", home]).output
    assert "build_dataset: hit: the same code on the same inputs ran before" in shown
    refreshed = cli.invoke(main, ["run", example, "--home", home, "--refresh-cache"])
    assert refreshed.exit_code == 0 and "cleared 1 cached result of ml_training" in refreshed.output
    newest = json.loads(cli.invoke(main, ["runs", "--home", home, "--json"]).output)[0]["run"]
    shown = cli.invoke(main, ["show", newest, "--home", home]).output
    assert "build_dataset: ran: no cached result yet" in shown
