"""Step options, schedules and triggers check themselves where they are written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compiler import Batch, CompileError, Lambda, PermanentError, Retry, cron, rate, s3_upload, step
from compiler.dsl.options import error_names


def here() -> int:
    import inspect

    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


def test_gpus_on_lambda_is_refused_at_the_line_that_asks() -> None:
    with pytest.raises(CompileError) as caught:
        line = here(); Lambda(gpus=1)  # noqa: E702
    assert caught.value.rule == "gpu-on-lambda"
    assert caught.value.location is not None and caught.value.location.line == line
    assert caught.value.location.file == __file__
    assert "Batch(gpus=1" in (caught.value.hint or "")


@pytest.mark.parametrize(("make", "rule"), [
    (lambda: Lambda(timeout=901), "lambda-timeout"),
    (lambda: Lambda(memory=64), "bad-option"),
    (lambda: Batch(vcpus=0), "bad-option"),
    (lambda: Retry(attempts=0), "bad-option"),
    (lambda: Retry(backoff=0.5), "bad-option"),
    (lambda: Retry(interval=1.5), "bad-option"),
    (lambda: Retry(on=["States.Nope"]), "bad-error-name"),
    (lambda: Retry(on=[int]), "bad-error-name"),
])
def test_bad_options(make, rule) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CompileError) as caught:
        make()
    assert caught.value.rule == rule


def test_retry_reads_durations_and_error_classes() -> None:
    class Throttled(Exception):
        pass

    policy = Retry(attempts=4, interval=timedelta(seconds=2), max_delay=timedelta(minutes=1), jitter=True,
                   on=[Throttled, "States.Timeout"])
    assert policy.interval_seconds == 2 and policy.max_delay_seconds == 60
    assert error_names(policy.on) == ("States.Timeout", "Throttled")
    assert error_names([Exception]) == ("States.ALL",)
    assert error_names([PermanentError]) == ("PermanentError",)


def test_step_timeout_longer_than_its_lambda_is_refused() -> None:
    with pytest.raises(CompileError) as caught:
        @step(compute=Lambda(timeout=60), timeout=120)
        def slow() -> None: ...
    assert caught.value.rule == "bad-option"
    assert "Lambda(timeout=120)" in (caught.value.hint or "")


@step(compute=Batch(gpus=2), retry=3, timeout=3600, heartbeat=300, cache=True)
def train(x: int) -> int:
    return x + 1


def test_step_records_its_options() -> None:
    assert train(1) == 2, "a step is still a plain function"
    assert train.options.is_batch and train.options.cache
    assert train.options.retry == (Retry(attempts=3),)
    assert train.ref == f"{__name__}:train"


def test_a_step_inside_a_function_is_refused() -> None:
    with pytest.raises(CompileError) as caught:
        @step
        def nested() -> None: ...
    assert caught.value.rule == "bad-step"
    assert "module level" in (caught.value.hint or "")


@pytest.mark.parametrize(("expression", "kwargs", "expected"), [
    ("0 3 * * ? *", {"timezone": "Europe/Berlin"}, "cron(0 3 * * ? *)"),
    ("cron(15 10 ? * MON-FRI *)", {}, "cron(15 10 ? * MON-FRI *)"),
    ("0 18 L * ? *", {}, "cron(0 18 L * ? *)"),
    ("0 9 ? * 6#3 *", {}, "cron(0 9 ? * 6#3 *)"),
    ("*/5 * * * ? *", {}, "cron(*/5 * * * ? *)"),
])
def test_valid_cron(expression: str, kwargs: dict[str, str], expected: str) -> None:
    assert cron(expression, **kwargs).expression == expected


@pytest.mark.parametrize(("expression", "fragment"), [
    ("0 3 * * *", "has 5 fields"),
    ("0 3 * * * *", "exactly one of day-of-month and day-of-week"),
    ("61 3 * * ? *", "'61' is not in 0-59"),
    ("0 3 ? FOO * *", "'FOO' is not in 1-12"),
    ("0 ? * * ? *", "'?' is allowed only"),
])
def test_bad_cron(expression: str, fragment: str) -> None:
    with pytest.raises(CompileError) as caught:
        cron(expression)
    assert caught.value.rule == "bad-schedule"
    assert fragment in caught.value.message


def test_unknown_time_zone_suggests_one() -> None:
    with pytest.raises(CompileError) as caught:
        cron("0 3 * * ? *", timezone="Europe/Berln")
    assert caught.value.rule == "bad-timezone"


def test_rate_forms() -> None:
    assert rate(1, "day").expression == "rate(1 day)"
    assert rate("6 hours").expression == "rate(6 hours)"
    assert rate(5, "minute").expression == "rate(5 minutes)"
    for bad in (lambda: rate(0, "days"), lambda: rate(2, "weeks"), lambda: rate("soon")):
        with pytest.raises(CompileError):
            bad()


def test_s3_upload_checks_the_bucket_name() -> None:
    assert s3_upload("raw-data", prefix="incoming/").bucket == "raw-data"
    with pytest.raises(CompileError) as caught:
        s3_upload("Raw_Data")
    assert caught.value.rule == "bad-trigger"
    with pytest.raises(CompileError):
        s3_upload("raw-data", prefix="/incoming")
