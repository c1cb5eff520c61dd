# expect-rule: payload-limit
# expect-line: 30
# expect-message: workflow 'profile_everything' can hold stats_a (a fan-out's results, up to 100 items), stats_b (a fan-out's results, up to 100 items), stats_c (a fan-out's results, up to 100 items), stats_d (a fan-out's results, up to 100 items) in the 4 branches of a Parallel state together: up to 400 step outputs and 264 KiB of other values, which can pass Step Functions' 256 KiB limit on a run's state
"""Four 100-item inline fan-ins kept until the end: together they can pass the 256 KiB state limit."""
from typing import Annotated

from pydantic import BaseModel, Field

import stepstone
from stepstone import step, workflow

Shards = Annotated[list[str], Field(max_length=100)]


class Stats(BaseModel):
    rows: int


@step
def profile(uri: str) -> Stats:
    return Stats(rows=0)


@step
def summarize(a: list[Stats], b: list[Stats], c: list[Stats], d: list[Stats]) -> Stats:
    return Stats(rows=0)


@workflow
def profile_everything(a: Shards, b: Shards, c: Shards, d: Shards) -> Stats:
    stats_a = stepstone.map(profile, a)
    stats_b = stepstone.map(profile, b)
    stats_c = stepstone.map(profile, c)
    stats_d = stepstone.map(profile, d)
    return summarize(stats_a, stats_b, stats_c, stats_d)
