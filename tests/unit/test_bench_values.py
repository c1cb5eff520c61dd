"""The value-store benchmark (8), at smoke size: it runs and says something.

No timing is asserted (the machines are shared and noisy): each figure must be measured
with its floor beside it, and the DataFrame must be the one the benchmark says it moves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import value_store
from benchmarks.core import Context

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
pytest.importorskip("moto")

NAMES = ["write, LocalStore (MB/s)", "read, LocalStore (MB/s)", "write, S3Store on moto (MB/s)",
         "read, S3Store on moto (MB/s)", "stored bytes", "peak memory of one round trip"]


def test_values_smoke_measures_every_path_against_its_floor(tmp_path: Path) -> None:
    figures = value_store.run(Context(smoke=True, work=tmp_path))
    assert [f.name for f in figures] == NAMES
    for figure in figures:
        assert figure.benchmark == "values"
        if figure.name.startswith("peak") and figure.value is None:  # no /proc/self/clear_refs here
            assert figure.note.startswith("write then read back") and "not measured" in figure.note
            continue
        assert figure.value is not None and figure.value > 0, figure
        assert figure.baseline is not None and figure.baseline > 0, figure
        assert figure.baseline_name and figure.goal == "" and figure.met is None
    assert "read back equal to the DataFrame" in figures[1].note
    assert "4,096 rows x 7 columns" in figures[0].note
    assert not (tmp_path / "values").exists()  # its ~300 MB of files are removed


def test_the_frame_is_50_mb_the_same_every_time_and_has_what_it_says() -> None:
    df = value_store.frame(value_store.ROWS)
    assert abs(df.memory_usage(deep=True).sum() / value_store.MB - 50) < 0.5
    assert list(df.dtypes.astype(str)) == ["float64"] * 4 + ["int64", "int64", "category"]
    assert df["x0"].isna().any() and df["x1"].isna().any() and not df["x2"].isna().any()
    assert len(df["label"].cat.categories) == 300
    small = value_store.frame(1000)
    assert small.equals(value_store.frame(1000))
