"""A fan-out's Map state: what each item gets (its ItemSelector: the parameters and values
its body reads, the item, its ``map_path``, and inside a distributed Map the run's name and
id) and, distributed, where its items come from (an S3 item reader, for a stored list) and
where its results go (the result writer; the state keeps a reference to the manifest)."""

from __future__ import annotations

from typing import Any

from ..ir import BindingKind, BindingRef, FanOut, Workflow
from ..protocol import MAP_PATH_KEY, RUN_KEY, VARS_KEY, item_path, results_prefix
from .resources import ResourceUse
from .states import MapState
from .values import ValuePaths, slug

__all__ = ["distribute", "item_selector"]


def item_selector(paths: ValuePaths, node: FanOut, params_used: list[str], outer: list[str], *, in_map: bool,
                  distributed: bool, run: tuple[str, str]) -> dict[str, Any]:
    """The ItemSelector: the only input each item's states get."""
    selector: dict[str, Any] = {f"{name}.$": f"$.{name}" for name in params_used}
    selector[VARS_KEY] = {**{f"{k}.$": paths.var_path(k) for k in outer}, f"{node.item}.$": "$$.Map.Item.Value"}
    item = item_path("{}" if in_map else None, slug(node.name), "{}")
    selector[f"{MAP_PATH_KEY}.$"] = (f"States.Format('{item}', $.{MAP_PATH_KEY}, $$.Map.Item.Index)"
                                     if in_map else f"States.Format('{item}', $$.Map.Item.Index)")
    if distributed:  # each item a child execution: its states read the run from their input
        selector[RUN_KEY] = {"name.$": run[0], "id.$": run[1]}
    elif paths.run_forwarded:
        selector[f"{RUN_KEY}.$"] = f"$.{RUN_KEY}"
    return selector


def distribute(state: MapState, paths: ValuePaths, resource: ResourceUse, workflow: Workflow, node: FanOut, *,
               in_map: bool, run_name: str, keeps_result: bool) -> None:
    """Make ``state`` a distributed Map: items from S3 when the list is a stored output, results to S3."""
    state.mode = "DISTRIBUTED"
    items = node.items
    if isinstance(items, BindingRef) and workflow.bindings[items.key].kind is BindingKind.RESULT:
        state.item_reader = {
            "Parameters": {"Bucket": resource("artifact_bucket"), "Key.$": f"{paths.var_path(items.key)}.ref"},
            "ReaderConfig": {"InputType": "JSON"},
            "Resource": "arn:aws:states:::s3:getObject",
        }
    else:
        state.items_path = paths.items_path(items)
    prefix = results_prefix(workflow.name, "{}", slug(node.name), "{}" if in_map else None)
    args = run_name + (f", $.{MAP_PATH_KEY}" if in_map else "")
    state.result_writer = {
        "Parameters": {"Bucket": resource("artifact_bucket"), "Prefix.$": f"States.Format('{prefix}', {args})"},
        "Resource": "arn:aws:states:::s3:putObject",
    }
    # Results always go to S3 (however many items there are); the state keeps a reference.
    if keeps_result:
        state.result_selector = {"fields": {}, "ref.$": "$.ResultWriterDetails.Key", "value": None}
