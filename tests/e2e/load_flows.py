"""Workflows for the load tests on LocalStack (tests/e2e/test_load.py).

``load_burst`` is a small, realistic pipeline, started many times at once with different
parameters: a generated table large enough to be stored in S3 (not inline), a shard plan
made beside it (the two run in parallel), a small inline fan-out over the shards that
reads the stored table, a summary, and a condition that takes one of two paths.

``load_map`` is the fan-out a user writes over a long list: a list comprehension over a
parameter whose size is not declared, which compiles to a DISTRIBUTED Map (each item a
child run, results written to S3), then one step that collects every item's result.
Every step is deterministic, so the local target gives the same outputs.
"""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import BaseModel, Field

import stepstone
from stepstone import step, workflow


class Table(BaseModel):
    seed: int
    rows: list[list[float]]


class Shard(BaseModel):
    index: int
    start: int
    stop: int


class ShardStats(BaseModel):
    index: int
    count: int
    total: float
    largest: float


class Summary(BaseModel):
    seed: int
    count: int
    mean: float
    largest: float
    shards: int


@step
def generate(seed: int, rows: int) -> Table:
    """``rows`` rows of four values: about 80 bytes a row, so 1,000 rows are stored in S3."""
    rng = random.Random(seed)
    return Table(seed=seed, rows=[[round(rng.random(), 6) for _ in range(4)] for _ in range(rows)])


@step
def plan_shards(rows: int, shards: int) -> Annotated[list[Shard], Field(max_length=8)]:
    size = -(-rows // shards)
    return [Shard(index=i, start=i * size, stop=min(rows, (i + 1) * size)) for i in range(shards)]


@step
def shard_stats(shard: Shard, table: Table) -> ShardStats:
    values = [value for row in table.rows[shard.start:shard.stop] for value in row]
    return ShardStats(index=shard.index, count=len(values), total=round(sum(values), 6),
                      largest=max(values, default=0.0))


@step
def summarize(table: Table, stats: list[ShardStats]) -> Summary:
    count = sum(s.count for s in stats)
    if count != 4 * len(table.rows):
        raise ValueError(f"the shards cover {count} values of {4 * len(table.rows)}")
    return Summary(seed=table.seed, count=count, mean=round(sum(s.total for s in stats) / count, 6),
                   largest=max(s.largest for s in stats), shards=len(stats))


@step
def publish(summary: Summary) -> str:
    return f"published seed {summary.seed}: {summary.count} values, mean {summary.mean}, max {summary.largest}"


@step
def hold_back(summary: Summary, threshold: float) -> str:
    return f"held back seed {summary.seed}: mean {summary.mean} < {threshold}"


@workflow
def load_burst(seed: int = 0, rows: int = 1200, shards: int = 3, threshold: float = 0.5) -> str:
    table = generate(seed, rows)          # independent of plan_shards: the two run in parallel
    parts = plan_shards(rows, shards)
    stats = stepstone.map(shard_stats, parts, max_concurrency=4, table=table)
    summary = summarize(table, stats)
    if summary.mean >= threshold:
        return publish(summary)
    return hold_back(summary, threshold)


class Item(BaseModel):
    x: int
    square: int
    label: str


class Collected(BaseModel):
    count: int
    total: int
    ordered: int  # sum of position * square: equal only when the results keep the items' order
    first: str
    last: str


@step
def work(x: int) -> Item:
    return Item(x=x, square=x * x, label=f"item-{x}")


@step
def collect(results: list[Item]) -> Collected:
    return Collected(count=len(results), total=sum(r.square for r in results),
                     ordered=sum(i * r.square for i, r in enumerate(results)),
                     first=results[0].label, last=results[-1].label)


@workflow
def load_map(items: list[int] = [1, 2, 3]) -> Collected:  # noqa: B006 (a run gets a validated copy)
    done = [work(x) for x in items]   # size not declared: a distributed Map
    return collect(done)

