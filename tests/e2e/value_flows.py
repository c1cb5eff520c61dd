"""One workflow that passes every kind of value a codec carries, from step to step: a pandas
DataFrame (NaN, categorical, time zones) and Series, a pyarrow Table, a numpy array, a fitted
scikit-learn model (pickle), a file and a folder (``Artifact``), a dataclass that mixes a
DataFrame with scalars (its ``passed`` tested by ``if``), a plain dict with a DataFrame in it
(no annotation: the codec is chosen from the value), a fan-out over a list of DataFrames and
a Batch step that takes a DataFrame and returns an array, a distributed fan-out over
DataFrames and a nested workflow that is passed a DataFrame, the Batch step's array, the
model and the record, and returns a Series. A second workflow, gated_model, holds a fitted
model and a DataFrame across an approval gate.

The last step builds every value again, as plain Python, and compares: the run's output says,
per value, whether what arrived is equal to what was sent. The same file runs on the local
target (tests/unit/test_values.py), in moto (tests/integration/test_values_moto.py) and in
LocalStack's Lambda (tests/e2e/test_values_localstack.py).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field
from sklearn.linear_model import LogisticRegression

from stepstone import Artifact, Batch, approve, step, workflow


def frame_of(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(rows)
    return pd.DataFrame({
        "x": rng.normal(size=rows),
        "y": np.where(rng.random(rows) < 0.1, np.nan, rng.random(rows)),
        "band": pd.Categorical(rng.choice(["low", "mid", "high"], rows), categories=["low", "mid", "high"]),
        "when": pd.date_range("2026-01-01", periods=rows, freq="h", tz="Europe/Berlin"),
        "label": (rng.random(rows) < 0.4).astype("int64"),
        "note": pd.array([None if i % 7 == 0 else f"row {i}" for i in range(rows)], dtype="string"),
    }, index=pd.RangeIndex(100, 100 + rows, name="row"))


def array_of(rows: int) -> np.ndarray:
    return np.random.default_rng(rows + 1).normal(size=(rows, 3)).astype(np.float32)


def model_of(rows: int) -> LogisticRegression:
    frame = frame_of(rows)
    return LogisticRegression().fit(np.column_stack([frame["x"], array_of(rows)]), frame["label"])


@dataclass
class Report:
    table: pd.DataFrame
    auc: float
    passed: bool


@step
def make_frame(rows: int) -> pd.DataFrame:
    return frame_of(rows)


@step
def make_series(frame: pd.DataFrame) -> pd.Series:
    return frame["x"].rename("x values")


@step
def make_table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame[["x", "label"]], preserve_index=False)


@step
def make_array(rows: int) -> np.ndarray:
    return array_of(rows)


@step
def fit_model(frame: pd.DataFrame, array: np.ndarray) -> LogisticRegression:
    return LogisticRegression().fit(np.column_stack([frame["x"], array]), frame["label"])


@step
def write_report(frame: pd.DataFrame) -> Artifact:
    path = Path(tempfile.mkdtemp()) / "report.csv"
    frame.to_csv(path)
    return Artifact(path)


@step
def write_folder(rows: int) -> Artifact:
    root = Path(tempfile.mkdtemp()) / "model-card"
    (root / "plots").mkdir(parents=True)
    (root / "README.md").write_text(f"# model card\n\n{rows} rows\n")
    (root / "plots" / "roc.txt").write_text("0,0\n1,1\n")
    return Artifact(root)


@step
def summarize(frame: pd.DataFrame, model: LogisticRegression, array: np.ndarray) -> Report:
    score = float(model.score(np.column_stack([frame["x"], array]), frame["label"]))
    return Report(table=frame.describe(), auc=round(score, 6), passed=score > 0.0)


@step
def loose(frame: pd.DataFrame):  # type: ignore[no-untyped-def]  # no annotation: the value picks its codec
    return {"head": frame.head(3), "rows": len(frame), "empty": []}


@step
def split(frame: pd.DataFrame) -> Annotated[list[pd.DataFrame], Field(max_length=4)]:
    return [frame.iloc[i::3] for i in range(3)]


@step
def count_rows(part: pd.DataFrame) -> int:
    return len(part)


@step
def split_all(frame: pd.DataFrame) -> list[pd.DataFrame]:  # no size declared: a distributed fan-out
    return [frame.iloc[i::2] for i in range(2)]


@step
def band_counts(frame: pd.DataFrame, means: np.ndarray, model: LogisticRegression, table: pd.DataFrame) -> pd.Series:
    """The frame's band counts when every value the nested run was passed arrived whole (none if not)."""
    arrived = bool(np.allclose(means, frame[["x", "y"]].mean().to_numpy())) and table.equals(frame.describe()) \
        and model.coef_.shape == (1, 4)
    counts = frame["band"].value_counts().sort_index()
    return counts if arrived else counts.iloc[:0]


@workflow
def band_summary(frame: pd.DataFrame, means: np.ndarray, model: LogisticRegression, report: Report) -> pd.Series:
    """Called by values_round_trip with its steps' results (a DataFrame, a Batch job's array, a
    fitted model, a record holding a table): a nested run that reads them as its own steps'
    results, tests a field of one, and returns a Series."""
    if not report.passed:
        raise ValueError("the report did not pass")
    return band_counts(frame, means, model, report.table)


@step(compute=Batch(vcpus=1, memory=2048))
def column_means(frame: pd.DataFrame) -> np.ndarray:
    return frame[["x", "y"]].mean().to_numpy()


@step
def compare(rows: int, frame: pd.DataFrame, series: pd.Series, table: pa.Table, array: np.ndarray,
            model: LogisticRegression, report_file: Artifact, folder: Artifact, report: Report, extra: dict,
            counts: list[int], means: np.ndarray, spread: list[int], bands: pd.Series) -> dict[str, bool]:
    """Whether each value arrived equal to what was sent (each built again here)."""
    expected = frame_of(rows)
    features = np.column_stack([expected["x"], array_of(rows)])
    card = folder.path
    return {
        "frame": expected.equals(frame) and frame.index.name == "row" and str(frame["when"].dt.tz) == "Europe/Berlin",
        "series": series.equals(expected["x"].rename("x values")) and series.name == "x values",
        "table": table.equals(pa.Table.from_pandas(expected[["x", "label"]], preserve_index=False)),
        "array": array.dtype == np.float32 and np.array_equal(array, array_of(rows)),
        "model": bool(np.array_equal(model.predict_proba(features), model_of(rows).predict_proba(features))),
        "file": report_file.path.name == "report.csv" and report_file.path.read_text().splitlines()[0].startswith(
            "row,x,y"),
        "folder": (card / "README.md").read_text() == f"# model card\n\n{rows} rows\n"
                  and (card / "plots" / "roc.txt").read_text() == "0,0\n1,1\n",
        "record": isinstance(report, Report) and report.table.equals(expected.describe()),
        "unannotated": extra["head"].equals(expected.head(3)) and extra["rows"] == rows and extra["empty"] == [],
        "fan_out": counts == [len(expected.iloc[i::3]) for i in range(3)],
        "batch": bool(np.allclose(means, expected[["x", "y"]].mean().to_numpy())),
        "distributed": spread == [len(expected.iloc[i::2]) for i in range(2)],
        "nested": bands.equals(expected["band"].value_counts().sort_index()),
    }


@step
def verdict(checks: dict[str, bool], note: str) -> dict[str, bool | str]:
    return {**checks, "note": note}


@workflow
def values_round_trip(rows: int = 60) -> dict[str, bool | str]:
    frame = make_frame(rows)
    series = make_series(frame)
    table = make_table(frame)
    array = make_array(rows)
    model = fit_model(frame, array)
    report_file = write_report(frame)
    folder = write_folder(rows)
    report = summarize(frame, model, array)
    extra = loose(frame)
    parts = split(frame)
    counts = [count_rows(part) for part in parts]
    means = column_means(frame)
    halves = split_all(frame)
    spread = [count_rows(half) for half in halves]
    bands = band_summary(frame, means, model, report)
    checks = compare(rows, frame, series, table, array, model, report_file, folder, report, extra, counts, means,
                     spread, bands)
    if not report.passed:
        return verdict(checks, "the model scored nothing")
    if extra["rows"] and not extra["empty"]:
        return verdict(checks, "rows, and an empty list is false")
    return verdict(checks, "truthiness went wrong")


@step
def held_out_score(model: LogisticRegression, frame: pd.DataFrame, array: np.ndarray) -> float:
    return round(float(model.score(np.column_stack([frame["x"], array]), frame["label"])), 6)


@workflow
def gated_model(rows: int = 60) -> float | None:
    """A fitted model and a DataFrame waiting on an approval gate, then used: what a release
    step does after someone said yes."""
    frame = make_frame(rows)
    array = make_array(rows)
    model = fit_model(frame, array)
    decision = approve("Score this model?")
    if decision.approved:
        return held_out_score(model, frame, array)
    return None
