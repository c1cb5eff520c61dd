"""The steps table lists a fan-out's items by index on every target, however they started."""

from __future__ import annotations

from stepstone.records import StepRecord
from stepstone.view import in_item_order


def step(state: str, map_path: str | None = None) -> StepRecord:
    return StepRecord(state=state, step=state, map_path=map_path)


def test_items_that_started_out_of_order_are_listed_by_index_where_the_fan_out_began() -> None:
    started = [step("load"), step("train", "grid/2"), step("audit"), step("train", "grid/10"),
               step("train", "grid/0"), step("train", "grid/1"), step("pick")]
    listed = [(s.state, s.map_path) for s in in_item_order(started)]
    assert listed == [("load", None), ("train", "grid/0"), ("train", "grid/1"), ("train", "grid/2"),
                      ("train", "grid/10"), ("audit", None), ("pick", None)]


def test_nested_fan_outs_sort_by_each_index() -> None:
    started = [step("fit", "outer/1/inner/0"), step("fit", "outer/0/inner/1"), step("fit", "outer/0/inner/0")]
    assert [s.map_path for s in in_item_order(started)] == ["outer/0/inner/0", "outer/0/inner/1", "outer/1/inner/0"]
