"""Batch steps of every kind the app places (tests/cdk/test_batch.py): a CPU job, a GPU job
on Spot, and a job on the p4d family that fits only there, with no timeout of its own."""

from stepstone import Batch, step, workflow


@step(compute=Batch(gpus=0, vcpus=8, memory=16_384), timeout=1800)
def featurize(rows: int) -> int:
    return rows


@step(compute=Batch(gpus=1, vcpus=4, memory=16_384, spot=True), timeout=3600)
def trial(rows: int) -> float:
    return rows / 2


@step(compute=Batch(gpus=8, vcpus=96, memory=700_000, instances=["p4d"]))
def pretrain(rows: int) -> float:
    return rows / 3


@workflow
def batch_kinds(rows: int = 10) -> float:
    features = featurize(rows)
    trial(features)
    return pretrain(features)
