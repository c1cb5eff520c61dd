"""Step Functions quotas that a run would otherwise hit at run time."""

from __future__ import annotations

from collections.abc import Iterable

from ..dsl.errors import CompileError
from ..dsl.quotas import HISTORY_LIMIT, INLINE_MAP_CONCURRENCY
from ..ir import FanOut
from ..limits import history_events
from ..plan import all_nodes
from . import CheckContext, rule


@rule("inline-map-concurrency")
def inline_concurrency(context: CheckContext) -> Iterable[CompileError]:
    for node in all_nodes(context.workflow.body):
        if isinstance(node, FanOut) and node.mode == "inline" and node.max_concurrency > INLINE_MAP_CONCURRENCY:
            yield CompileError(
                f"max_concurrency={node.max_concurrency}: an inline fan-out runs at most {INLINE_MAP_CONCURRENCY} "
                "items at once", rule="inline-map-concurrency", location=node.location,
                hint=f"use max_concurrency <= {INLINE_MAP_CONCURRENCY}, or declare more than 100 items "
                     "(max_items=...) to fan out as a distributed map")


@rule("history-limit")
def history(context: CheckContext) -> Iterable[CompileError]:
    wf = context.workflow
    if wf.type != "standard":
        return
    events = history_events(wf, context.planner)
    if events > HISTORY_LIMIT:
        biggest = max((n for n in all_nodes(wf.body) if isinstance(n, FanOut) and n.mode == "inline"),
                      key=lambda n: n.max_items or 0, default=None)
        yield CompileError(
            f"a run of {wf.name!r} can write up to {events:,} history events; Step Functions stops a run at "
            f"{HISTORY_LIMIT:,}", rule="history-limit",
            location=biggest.location if biggest else wf.location,
            hint="fan out with a distributed map (declare max_items above 100), which runs items as child "
                 "runs, or split the work into nested workflows")
