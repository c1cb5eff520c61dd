"""S3 events on LocalStack: odd keys reach the run intact, and an event that names no object
starts no run.

LocalStack's S3 puts ``urllib.parse.quote(key)`` in its EventBridge events (``a b.csv``
arrives as ``a%20b.csv``); AWS's EventBridge events carry the key as it is. So on LocalStack
the trigger rule matches the encoded key and ``lambdas.s3_trigger`` decodes it before it
starts the run (stepstone/localstack/deploy.py). The event patterns are judged here by
LocalStack's own EventBridge matcher (TestEventPattern), never by a matcher of ours.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.deployment.rules import s3_event_pattern
from examples.etl_s3 import SAMPLE_OBJECTS, etl_s3
from stepstone.localstack.clients import ACCOUNT, REGION
from stepstone.testing.localstack import LocalStackSession
from tests.support.reliability import count

pytestmark = pytest.mark.localstack

TRIGGER = etl_s3.options.triggers[0]
CSV = SAMPLE_OBJECTS[("raw-data", "sales/2024-06-01.csv")]
T = TypeVar("T")


@pytest.fixture(scope="module")
def aws(localstack: LocalStackSession) -> LocalStackSession:
    localstack.deploy(etl_s3)
    return localstack


def poll(find: Callable[[], T], *, tries: int = 240, pause: float = 0.5) -> T:
    """``find()`` once it gives something (events reach EventBridge's targets a little later)."""
    for _ in range(tries):
        found = find()
        if found:
            return found
        time.sleep(pause)
    return find()


def runs_of(aws: LocalStackSession, keys: set[str]) -> dict[str, str]:
    """Execution ARN of each etl_s3 run started for one of ``keys`` (other tests upload too)."""
    found = {}
    for execution in aws.target.executions("etl_s3"):
        key = json.loads(execution.get("input") or "{}").get("key")
        if key in keys:
            found[key] = execution["executionArn"]
    return found


def test_uploads_with_odd_keys_start_runs_that_read_them(aws: LocalStackSession) -> None:
    folder = f"sales/odd keys {uuid.uuid4().hex[:8]}"
    keys = {f"{folder}/a b.csv", f"{folder}/ä ö ü/日本語 ✓.csv", f"{folder}/a+b=c&d;e.csv",
            f"{folder}/100% %41 %zz.csv", f"{folder}/emoji 🚀 (1).csv", f"{folder}/{'long ' * 150}.csv"}
    for key in keys:
        aws.upload("raw-data", key, CSV)
    started = poll(lambda: found if len(found := runs_of(aws, keys)) == len(keys) else {})
    assert set(started) == keys, f"runs for {sorted(set(started))} of {sorted(keys)}"
    for key, arn in started.items():
        run = aws.wait(arn)
        assert run.params == {"bucket": "raw-data", "key": key}, "the run gets the real key"
        assert run.trigger == f"s3://raw-data/{key}"
        assert run.status == "succeeded" and run.output["value"] == "analytics.daily_sales", \
            f"{key!r}: the step read the object: {run.error}"
    count("hostile input: S3 uploads with odd keys that started a run reading them (LocalStack)", len(keys))


def s3_event(detail: dict[str, Any] | None) -> dict[str, Any]:
    event: dict[str, Any] = {"id": str(uuid.uuid4()), "version": "0", "account": ACCOUNT, "region": REGION,
                             "time": "2026-01-01T00:00:00Z", "source": "aws.s3", "detail-type": "Object Created",
                             "resources": ["arn:aws:s3:::raw-data"]}
    if detail is not None:
        event["detail"] = detail
    return event


# LocalStack's wildcard is a regular expression with `.+` for `*`: it wants at least one
# character and no newline there (AWS's matches zero or more of any), so neither is generated
middles = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), min_size=1,
                  max_size=200) | st.sampled_from(
    ["a b", "ä ö", "a+b", "100%", "%41", "*", "\\", "x" * 900, "sales/", ".csv", "🚀"])
BROKEN = ["no detail", "no object", "no key", "no bucket", "key is null", "key is a number", "key is empty",
          "key is an object", "other bucket", "bucket is a number"]


@st.composite
def events(draw: st.DrawFn) -> tuple[str, Any, bool]:
    """(what kind of event, its key or None, whether the trigger must match it) by construction."""
    kind = draw(st.sampled_from(["watched", "other prefix", "other suffix", *BROKEN]))
    middle = draw(middles)
    key = {"other prefix": f"other/{middle}.csv", "other suffix": f"sales/{middle}.csv.txt"}.get(
        kind, f"sales/{middle}.csv")
    return kind, key, kind == "watched"


def shaped(kind: str, key: Any, extra: dict[str, Any]) -> dict[str, Any] | None:
    detail: dict[str, Any] = {"version": "0", "bucket": {"name": "raw-data"},
                              "object": {"key": key, "size": 5, **extra}, "reason": "PutObject"}
    changes: dict[str, Callable[[], None]] = {
        "no object": lambda: detail.pop("object"), "no key": lambda: detail["object"].pop("key"),
        "no bucket": lambda: detail.pop("bucket"), "key is null": lambda: detail["object"].update(key=None),
        "key is a number": lambda: detail["object"].update(key=7),
        "key is empty": lambda: detail["object"].update(key=""),
        "key is an object": lambda: detail["object"].update(key={"k": key}),
        "other bucket": lambda: detail.update(bucket={"name": "raw-data-2"}),
        "bucket is a number": lambda: detail.update(bucket={"name": 7})}
    if kind == "no detail":
        return None
    changes.get(kind, lambda: None)()
    return detail


@settings(max_examples=100, deadline=None)
@given(case=events(), extra=st.dictionaries(st.text(max_size=5).filter(lambda name: name != "key"),
                                            st.text(max_size=5) | st.integers(), max_size=3))
def test_eventbridge_matches_exactly_the_events_a_run_can_start_from(aws: LocalStackSession,
                                                                     case: tuple[str, Any, bool],
                                                                     extra: dict[str, Any]) -> None:
    """Both patterns (AWS's for raw keys, LocalStack's for encoded ones) by EventBridge's own matcher."""
    kind, key, should_match = case
    for pattern, shown in ((s3_event_pattern(TRIGGER), key),
                           (s3_event_pattern(TRIGGER, url_encoded_keys=True), quote(key))):
        event = s3_event(shaped(kind, shown, extra))
        verdict = aws.aws.events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))
        assert verdict["Result"] is should_match, f"{kind}: {json.dumps(event)[:300]}"
    count("hostile input: S3 event payloads fuzzed", 2)


def test_a_crafted_event_that_names_no_object_starts_no_run(aws: LocalStackSession) -> None:
    """put_events of S3-shaped events (LocalStack lets a caller send source aws.s3; AWS does not):
    those without a usable key start nothing; one with a key, sent after them, starts its run."""
    marker = f"sales/crafted {uuid.uuid4().hex[:8]}.csv"
    bad = [shaped(kind, "sales/x.csv", {}) for kind in ("no object", "no key", "key is null", "key is a number",
                                                        "key is empty", "key is an object")]
    good = shaped("watched", quote(marker), {})
    before = {e["executionArn"] for e in aws.target.executions("etl_s3")}
    entries = [{"Source": "aws.s3", "DetailType": "Object Created", "Resources": ["arn:aws:s3:::raw-data"],
                "Detail": json.dumps(detail)} for detail in [*bad, good]]
    sent = aws.aws.events.put_events(Entries=entries)
    if sent.get("FailedEntryCount"):
        pytest.skip(f"this LocalStack refuses events of source aws.s3: {sent['Entries']}")
    started = poll(lambda: runs_of(aws, {marker}))
    assert marker in started, "the event with a key started its run"
    new = [e for e in aws.target.executions("etl_s3") if e["executionArn"] not in before]
    keys = [json.loads(e.get("input") or "{}").get("key") for e in new]
    assert all(isinstance(k, str) and k for k in keys), f"a run started without a key: {keys}"
    count("hostile input: S3 event payloads fuzzed", len(entries))
