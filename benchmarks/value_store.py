"""8. A 50 MB DataFrame from step to step: MB/s through the value store, against pickle.

A step that returns a ``pd.DataFrame`` hands it to the next step through the artifact store:
``lambdas.codecs.store_value`` encodes it as Parquet (pyarrow, with pandas' metadata),
hashes the bytes (sha256, recorded in the reference) and writes them; ``load_value`` reads
them, checks the hash and decodes them. The DataFrame is built here, the same each time
(``numpy.random.default_rng(0)``): 2**20 rows of four float64 columns (two with NaN), two
int64 columns (one of 1,000 values, one of 2**40) and a categorical of 300 strings, 50 MB
in memory (``df.memory_usage(deep=True)``; 2**12 rows in smoke mode). MB are 2**20 bytes,
and every MB/s is of that in-memory size, so both sides of a figure move the same data.

- The floor is what the same move costs without a codec: ``pickle.dumps(df, protocol=5)``
  and the bytes written to a file in the same folder, then read back and ``pickle.loads``.
- The same two paths through ``S3Store`` on moto's in-process S3 (``moto.mock_aws``, the
  environment of ``stepstone.testing.fixtures.MOTO_ENVIRONMENT``), against the pickle's
  bytes through ``put_object`` / ``get_object`` of the same client. The figure is what
  stepstone adds on top of boto3 and moto (which keeps a body over 5 MB in a temporary
  file), not the network's speed. The client sends checksums only where S3 requires them
  (``request_checksum_calculation="when_required"``): with boto3's default, every upload is
  an aws-chunked body that moto and botocore reassemble in quadratic time, which would
  make both sides 1.5-2 s and the ratio moto's.
- Each figure is the median of a few calls (after a warm-up on a small frame that imports
  pyarrow); the notes give the Parquet and sha256 parts of stepstone's time, each timed on
  its own. What was read back is checked to equal the DataFrame (untimed). The files are
  removed at the end (about 300 MB).
- Peak memory is that of one round trip (write, then read back) in a fresh subprocess:
  Linux's high-water resident set (``VmHWM``, what ``ru_maxrss`` reports), reset through
  ``/proc/self/clear_refs`` once the DataFrame is built and pyarrow imported, so it counts
  the round trip alone. tracemalloc would miss it: pyarrow allocates from its own pool.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .core import ROOT, Context, Figure, timed

__all__ = ["frame", "peak_child", "run"]

MB = 2**20
ROWS, SMOKE_ROWS = 2**20, 2**12  # 50 bytes a row in memory: 50 MB
BUCKET = "stepstone-bench-values"
PICKLE_FLOOR = "pickle.dumps(protocol=5) + write a file"
CHILD = ("import sys; from benchmarks.value_store import peak_child; "
         "peak_child(sys.argv[1], int(sys.argv[2]), sys.argv[3])")


def frame(rows: int) -> Any:
    """The benchmark's DataFrame: ``rows`` rows, the same every time."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    floats = {f"x{i}": rng.normal(size=rows) for i in range(4)}
    for name, share in (("x0", 0.05), ("x1", 0.2)):
        floats[name][rng.random(rows) < share] = np.nan
    labels = [f"category_{i:03d}" for i in range(300)]
    return pd.DataFrame({
        **floats,
        "count": rng.integers(0, 1000, rows),
        "id": rng.integers(0, 2**40, rows),
        "label": pd.Categorical.from_codes(rng.integers(0, len(labels), rows).astype(np.int16), categories=labels),
    })


def _prefix() -> str:
    from compiler.protocol.keys import attempt_prefix

    return attempt_prefix("bench_values", "run-0", "produce", 1)


def _median(fn: Callable[[], Any], repeat: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeat))


@contextmanager
def _moto_s3() -> Iterator[Any]:
    """An S3 client of moto's in-process AWS, with the benchmark's bucket made."""
    import boto3
    from botocore.config import Config
    from moto import mock_aws

    from stepstone.testing.fixtures import MOTO_ENVIRONMENT

    saved = {name: os.environ.get(name) for name, _ in MOTO_ENVIRONMENT}
    os.environ.update(dict(MOTO_ENVIRONMENT))
    try:
        with mock_aws():
            # no aws-chunked body: moto reads one whole and both it and botocore join its chunks
            # one by one (quadratic: 1.5-2 s for 50 MB), a cost of the double a real connection never pays
            config = Config(request_checksum_calculation="when_required")
            client = boto3.client("s3", region_name="us-east-1", config=config)
            client.create_bucket(Bucket=BUCKET)
            yield client
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _Paths:
    """The four moves of one DataFrame through one store: stepstone's write and read, and the floor's."""

    def __init__(self, df: Any, store: Any, put: Callable[[bytes], Any], get: Callable[[], bytes]) -> None:
        self.df, self.store, self._put, self._get = df, store, put, get
        self.skeleton: Any = None

    def write(self) -> None:
        import pandas as pd

        from lambdas.codecs import store_value

        self.skeleton = store_value(self.df, pd.DataFrame, store=self.store, prefix=_prefix()).skeleton

    def read(self) -> Any:
        import pandas as pd

        from lambdas.codecs import load_value

        return load_value(self.skeleton, pd.DataFrame, store=self.store)

    def floor_write(self) -> None:
        self._put(pickle.dumps(self.df, protocol=5))

    def floor_read(self) -> Any:
        return pickle.loads(self._get())

    def timings(self, repeat: int) -> dict[str, float]:
        """Median seconds of each move, and the DataFrame read back checked against the original."""
        found = {"write": _median(self.write, repeat), "floor_write": _median(self.floor_write, repeat),
                 "read": _median(self.read, repeat), "floor_read": _median(self.floor_read, repeat)}
        for side, back in (("stepstone", self.read()), ("the floor", self.floor_read())):
            # DataFrame.equals: same dtypes, same values, NaN where NaN was (assert_frame_equal takes 11 s here)
            if not self.df.equals(back):
                raise ValueError(f"{side} read back a different DataFrame than it wrote")
        return found


def _local(df: Any, folder: Path) -> _Paths:
    from lambdas.store import LocalStore

    folder.mkdir(parents=True, exist_ok=True)
    floor = folder / "floor.pkl"
    return _Paths(df, LocalStore(folder / "store"), floor.write_bytes, floor.read_bytes)


def _s3(df: Any, client: Any) -> _Paths:
    from lambdas.store import S3Store

    def put(data: bytes) -> None:
        client.put_object(Bucket=BUCKET, Key="floor.pkl", Body=data)

    def get() -> bytes:
        data: bytes = client.get_object(Bucket=BUCKET, Key="floor.pkl")["Body"].read()
        return data

    return _Paths(df, S3Store(BUCKET, client=client), put, get)


def _parts(df: Any, repeat: int) -> dict[str, float]:
    """The store's work timed part by part: Parquet encode and decode, sha256; and the sizes."""
    import pandas as pd

    from compiler.protocol.codecs import PARQUET
    from compiler.protocol.encoding import content_hash
    from lambdas.codecs import decode, encode

    data = encode(df, PARQUET)
    return {"encode": _median(lambda: encode(df, PARQUET), repeat),
            "sha256": _median(lambda: content_hash(data), repeat),
            "decode": _median(lambda: decode(data, PARQUET, pd.DataFrame), repeat),
            "parquet_bytes": len(data), "pickle_bytes": len(pickle.dumps(df, protocol=5))}


def _status(field: str) -> float:
    """A ``VmHWM`` or ``VmRSS`` line of /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / MB
    raise LookupError(field)


def peak_child(kind: str, rows: int, folder: str) -> None:
    """In a fresh process: one round trip of the DataFrame (``stepstone`` or ``pickle``) and
    the peak resident set it added, printed as JSON."""
    work = Path(folder)
    _local(frame(64), work).timings(1)  # imports pyarrow and pandas' parquet paths: not the round trip's
    df = frame(rows)
    paths = _local(df, work)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
    before = _status("VmRSS")
    if kind == "stepstone":
        paths.write()
        back = paths.read()
    else:
        paths.floor_write()
        back = paths.floor_read()
    peak = _status("VmHWM")
    print(json.dumps({"before_mb": before, "peak_mb": peak, "rows_back": len(back)}))


def _peak(kind: str, rows: int, folder: Path) -> tuple[float | None, str]:
    """MB a round trip added to the process's resident set, or None and why not."""
    if not Path("/proc/self/clear_refs").exists():
        return None, "not measured: needs Linux's /proc/self/clear_refs"
    done = subprocess.run([sys.executable, "-c", CHILD, kind, str(rows), str(folder)], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=300)
    if done.returncode != 0:
        return None, f"not measured: {(done.stderr or done.stdout).strip()[-300:]}"
    found = json.loads(done.stdout.strip().splitlines()[-1])
    if found["rows_back"] != rows:
        return None, f"not measured: {found['rows_back']} rows came back of {rows}"
    return found["peak_mb"] - found["before_mb"], f"{found['before_mb']:.0f} MB before"


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.3g} ms"


def _throughput(name: str, size: float, ours: float, floor: float, floor_name: str, repeat: int,
                note: str) -> Figure:
    return Figure("values", f"{name} (MB/s)", size / ours, "MB/s", floor_name, size / floor,
                  note=f"median of {repeat}: {_ms(ours)}, the floor {_ms(floor)} "
                       f"({ours / floor:.1f}x its time); {note}")


def run(ctx: Context) -> list[Figure]:
    folder = ctx.work / "values"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        return _measure(ctx, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(ctx: Context, folder: Path) -> list[Figure]:
    rows, repeat = ctx.size(ROWS, SMOKE_ROWS), ctx.size(5, 2)
    _local(frame(64), folder / "warm-up").timings(1)
    df = frame(rows)
    size = float(df.memory_usage(deep=True).sum()) / MB
    shape = f"{rows:,} rows x {len(df.columns)} columns, {size:.1f} MB in memory"
    ctx.say(f"values: a DataFrame of {shape}, through LocalStore")
    local = _local(df, folder).timings(repeat)
    parts = _parts(df, repeat)
    ctx.say("values: the same through S3Store on moto's S3")
    with _moto_s3() as client:
        _s3(frame(64), client).timings(1)  # botocore loads its S3 model on the first call
        s3 = _s3(df, client).timings(repeat)
    ctx.say("values: peak memory of one round trip, each in a fresh process")
    ours_mb, ours_note = _peak("stepstone", rows, folder / "peak-stepstone")
    floor_mb, floor_note = _peak("pickle", rows, folder / "peak-pickle")
    encode, sha256, decode = (_ms(parts[k]) for k in ("encode", "sha256", "decode"))
    write_split = f"of stepstone's: Parquet encode {encode}, sha256 {sha256}"
    read_split = f"of stepstone's: sha256 {sha256}, Parquet decode {decode}"
    return [
        _throughput("write, LocalStore", size, local["write"], local["floor_write"], PICKLE_FLOOR, repeat,
                    f"{shape}; {write_split}"),
        _throughput("read, LocalStore", size, local["read"], local["floor_read"], "read the file + pickle.loads",
                    repeat, f"{read_split}; read back equal to the DataFrame"),
        _throughput("write, S3Store on moto", size, s3["write"], s3["floor_write"],
                    "pickle.dumps + put_object, the same client", repeat, write_split),
        _throughput("read, S3Store on moto", size, s3["read"], s3["floor_read"],
                    "get_object + pickle.loads, the same client", repeat, read_split),
        Figure("values", "stored bytes", parts["parquet_bytes"] / MB, "MB", "the pickle's bytes",
               parts["pickle_bytes"] / MB, note="Parquet as lambdas/codecs writes it (snappy; dictionary "
                                                "pages for strings, categories and booleans only)"),
        Figure("values", "peak memory of one round trip", ours_mb, "MB", "the pickle round trip", floor_mb,
               note=f"write then read back, in a fresh process: VmHWM (ru_maxrss) reset once the DataFrame is built; "
                    f"stepstone {ours_note}, pickle {floor_note}; the DataFrame is {size:.1f} MB"),
    ]
