"""Schedules and triggers must start runs with parameters the workflow accepts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..dsl.errors import CompileError, Location, ParamsError
from ..dsl.triggers import S3Upload
from . import CheckContext, rule


def _check_params(context: CheckContext, params: Mapping[str, Any], what: str,
                  location: Location | None, rule: str) -> Iterable[CompileError]:
    definition = context.definition
    if definition is None:
        return
    try:
        definition.validate_params(params)
    except ParamsError as exc:
        yield CompileError(
            f"{what} would start {definition.name!r} with invalid parameters: " + "; ".join(exc.errors),
            rule=rule, location=location or context.workflow.location,
            hint=f"pass params={{...}} to {what} with a valid value for every parameter that has no default")


@rule("schedule-params")
def schedule_params(context: CheckContext) -> Iterable[CompileError]:
    for schedule in context.workflow.schedules:
        yield from _check_params(context, schedule.params, f"the schedule {schedule.expression}", schedule.location,
                                 "schedule-params")


@rule("trigger-params")
def trigger_params(context: CheckContext) -> Iterable[CompileError]:
    wf = context.workflow
    for trigger in wf.triggers:
        if isinstance(trigger, S3Upload):
            missing = [p for p in trigger.passed_params if p not in wf.params.names]
            if missing:
                yield CompileError(
                    f"s3_upload passes the object's {' and '.join(missing)} to parameter(s) "
                    f"{', '.join(repr(m) for m in missing)}, which {wf.name!r} does not have",
                    rule="trigger-params", location=trigger.location,
                    hint="add them to the workflow's parameters (e.g. key: str | None = None), or set "
                         "bucket_param=/key_param= to the names it has (None to leave one out)")
                continue
            sample = {**trigger.params, **{p: "example" for p in trigger.passed_params}}
            yield from _check_params(context, sample, "the s3_upload trigger", trigger.location, "trigger-params")
        else:
            yield from _check_params(context, trigger.params, f"the trigger on {trigger.workflow}",
                                     trigger.location, "trigger-params")
