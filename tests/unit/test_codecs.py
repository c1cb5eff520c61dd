"""Codecs: which codec carries a type (``compiler/protocol/codecs.py``, ``carriers.py``), and
values through them and back (``lambdas/codecs/``): a round trip per codec with equality
checks, mixed records whose scalars stay JSON, user codecs, files and folders, unannotated
values, and stored bytes that changed refused by the key they were read from. Classifying
annotations and importing the runtime's codecs load none of pandas, numpy, pyarrow, torch
or scikit-learn (checked in a fresh Python). torch's codec is tested only where torch is
installed."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
import tempfile
import typing
from pathlib import Path
from typing import Any, Optional

import pytest
import typing_extensions
from pydantic import BaseModel, ConfigDict

from compiler.dsl.artifacts import Artifact
from compiler.protocol.carriers import codec_for_annotation
from compiler.protocol.codecs import codec_spec
from compiler.protocol.errors import CodecRegistrationError, ProtocolError
from compiler.protocol.values import ValueRef, value_key, value_refs
from lambdas.codecs import (
    codec_for_value,
    decode,
    encode,
    load_pickle,
    load_value,
    materialize,
    register_codec,
    store_value,
)
from lambdas.errors import CodecError, CorruptValueError
from lambdas.store import LocalStore

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
linear_model = pytest.importorskip("sklearn.linear_model")
datasets = pytest.importorskip("sklearn.datasets")

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "runs/wf/r-1/step/attempt-0/"
LIBRARIES = ("numpy", "pandas", "pyarrow", "torch", "sklearn", "scipy")


@pytest.fixture(autouse=True)
def _temporary_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Artifacts made and unpacked here go to the test's folder, not the machine's /tmp."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "artifacts")


def round_trip(value: Any, annotation: Any, store: LocalStore) -> tuple[Any, Any]:
    stored = store_value(value, annotation, store=store, prefix=PREFIX)
    json.dumps(stored.skeleton)  # the skeleton is JSON: it travels in the state
    return load_value(stored.skeleton, annotation, store=store), stored.skeleton


def in_fresh_python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


# --- which codec carries a type -------------------------------------------------------------------------

@dataclasses.dataclass
class Report:
    table: pd.DataFrame
    auc: float
    notes: list[str]


class Embeddings(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    vectors: np.ndarray
    dim: int


class Trained(typing.NamedTuple):
    model: linear_model.LogisticRegression
    score: float


class Quality(typing_extensions.TypedDict):  # pydantic reads typing.TypedDict from Python 3.12 on
    passed: bool
    rows: int


@dataclasses.dataclass
class Plain:
    passed: bool
    reasons: list[str]


class Opaque:  # no codec names it, nor is it JSON: pickled
    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.value == self.value


@pytest.mark.parametrize(("annotation", "carried"), [
    (pd.DataFrame, "parquet"), (pd.Series, "parquet"), (pa.Table, "parquet"), (np.ndarray, "npy"),
    (np.float32, "npy"), (linear_model.LogisticRegression, "pickle"), (Opaque, "pickle"), (Artifact, "file"),
    (Optional[pd.DataFrame], "parquet"),  # noqa: UP045 - the typing form under test (typing.Annotated[np.ndarray, "embeddings"], "npy"),
    (int, "json"), (str | None, "json"), (list[dict[str, float]], "json"), (dict[str, Any], "json"),
    (Quality, "json"), (Plain, "json"), (typing.Literal["a", "b"], "json"),
    (Any, "dynamic"), (object, "dynamic"), (pd.DataFrame | np.ndarray, "dynamic"),
    (list[pd.DataFrame], "list of parquet"), (dict[str, np.ndarray], "dict of npy"),
    (Report, "mixed record (table: parquet, auc: json, notes: json)"),
    (Embeddings, "mixed record (vectors: npy, dim: json)"),
    (Trained, "mixed tuple (model: pickle, score: json)"),
    (tuple[linear_model.LogisticRegression, float], "mixed tuple (0: pickle, 1: json)"),
])
def test_an_annotation_says_which_codec_carries_it(annotation: Any, carried: str) -> None:
    assert codec_for_annotation(annotation).describe() == carried


def test_a_mixed_record_keeps_its_scalar_fields_as_json() -> None:
    carrier = codec_for_annotation(Report)
    assert carrier.codec == "mixed" and carrier.shape == "record"
    assert carrier.field("auc").codec == "json" and carrier.field("table").by_reference  # type: ignore[union-attr]


@pytest.mark.parametrize(("annotation", "words"), [
    (typing.Iterator[int], "cannot be stored"), (typing.Callable[[int], int], "a callable"),
    (dict[int, np.ndarray], "use dict[str, ...]"), (typing.IO[str], "an open file"),
])
def test_what_no_codec_carries_is_refused_with_the_reason(annotation: Any, words: str) -> None:
    carrier = codec_for_annotation(annotation)
    assert carrier.codec is None and words in str(carrier.problem)


def test_a_class_defined_in_a_function_cannot_be_pickled_and_says_so() -> None:
    class Local:
        pass

    assert "inside a function" in str(codec_for_annotation(Local).problem)
    holder = dataclasses.make_dataclass("Holder", [("thing", Local)])  # a real annotation, not a string
    carrier = codec_for_annotation(holder)
    assert carrier.codec is None and "field 'thing' of Holder" in str(carrier.problem)
    assert "inside a function" in str(carrier.problem)


CLASSIFY_WITHOUT_LIBRARIES = r"""
import dataclasses, json, sys, typing
from compiler.protocol.carriers import codec_for_annotation

def named(module, qualname, *bases):  # a class as the library would define it, the library never imported
    cls = type(qualname.rpartition(".")[2], bases or (object,), {})
    cls.__module__, cls.__qualname__ = module, qualname
    return cls

DataFrame = named("pandas", "DataFrame")
ndarray = named("numpy", "ndarray")
Estimator = named("sklearn.base", "BaseEstimator")
LogisticRegression = named("sklearn.linear_model._logistic", "LogisticRegression", Estimator)
Tensor = named("torch", "Tensor")

@dataclasses.dataclass
class Report:
    table: DataFrame
    auc: float

found = {name: codec_for_annotation(ann).describe() for name, ann in [
    ("frame", DataFrame), ("array", ndarray), ("model", LogisticRegression), ("tensor", Tensor),
    ("state_dict", dict[str, Tensor]), ("report", Report), ("frames", list[DataFrame]),
    ("maybe", typing.Optional[ndarray])]}
loaded = sorted(m for m in LIBRARIES if m in sys.modules)
print(json.dumps({"found": found, "loaded": loaded}))
""".replace("LIBRARIES", repr(LIBRARIES))


def test_annotations_are_classified_by_name_without_importing_the_libraries() -> None:
    report = json.loads(in_fresh_python(CLASSIFY_WITHOUT_LIBRARIES))
    assert report["found"] == {"frame": "parquet", "array": "npy", "model": "pickle", "tensor": "torch",
                               "state_dict": "torch", "report": "mixed record (table: parquet, auc: json)",
                               "frames": "list of parquet", "maybe": "npy"}
    assert report["loaded"] == []


RUNTIME_WITHOUT_LIBRARIES = r"""
import json, sys, tempfile
import lambdas.codecs as codecs
from lambdas.store import LocalStore

store = LocalStore(tempfile.mkdtemp())
value = {"rows": 3, "passed": True, "reasons": ["ok"], "score": 0.5}
data = codecs.encode(value, "json")
assert codecs.decode(data, "json", dict[str, object]) == value
stored = codecs.store_value(value, dict, store=store, prefix="p/")
assert stored.refs == () and codecs.load_value(stored.skeleton, dict, store=store) == value
assert codecs.codec_for_value(value) == "json"
print(json.dumps(sorted(m for m in LIBRARIES if m in sys.modules)))
""".replace("LIBRARIES", repr(LIBRARIES))


def test_importing_the_codecs_and_passing_a_dict_loads_no_library() -> None:
    assert json.loads(in_fresh_python(RUNTIME_WITHOUT_LIBRARIES)) == []


# --- a round trip per codec -------------------------------------------------------------------------

def frame() -> Any:
    return pd.DataFrame(
        {"x": [1.5, np.nan, 3.0], "label": ["a", None, "c"], "kind": pd.Categorical(["u", "v", "u"]),
         "at": pd.date_range("2026-01-01", periods=3, tz="Europe/Berlin"),
         "count": pd.array([1, None, 3], dtype="Int64"), "flag": [True, False, True]},
        index=pd.Index([10, 20, 30], name="id"))


def test_a_dataframe_comes_back_with_its_index_dtypes_and_nans(store: LocalStore) -> None:
    df = frame()
    back, skeleton = round_trip(df, pd.DataFrame, store)
    pd.testing.assert_frame_equal(back, df, check_index_type=True, check_column_type=True)
    ref = ValueRef.decode(skeleton)
    assert (ref.codec, ref.media_type, ref.type) == ("parquet", "application/vnd.apache.parquet", "pandas.DataFrame")
    assert ref.key == f"{PREFIX}values/output.parquet" and store.exists(ref.key)


def test_a_range_index_and_a_multi_index_survive(store: LocalStore) -> None:
    ranged = pd.DataFrame({"v": [1, 2]}, index=pd.RangeIndex(5, 7))
    back, _ = round_trip(ranged, pd.DataFrame, store)
    assert isinstance(back.index, pd.RangeIndex)
    pd.testing.assert_frame_equal(back, ranged, check_index_type=True)
    multi = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", "n"]))
    pd.testing.assert_frame_equal(round_trip(multi, pd.DataFrame, store)[0], multi, check_index_type=True)


@pytest.mark.parametrize("name", ["score", None, 3])
def test_a_series_comes_back_with_its_name(store: LocalStore, name: Any) -> None:
    series = pd.Series([0.25, np.nan, 1.0], index=pd.Index(["a", "b", "c"], name="key"), name=name, dtype="float32")
    pd.testing.assert_series_equal(round_trip(series, pd.Series, store)[0], series, check_index_type=True)


def test_a_pyarrow_table_comes_back_equal_and_can_be_read_as_a_dataframe(store: LocalStore) -> None:
    table = pa.table({"id": pa.array([1, 2, None], pa.int32()), "name": ["a", "b", "c"]},
                     metadata={b"source": b"warehouse"})
    back, skeleton = round_trip(table, pa.Table, store)
    assert back.equals(table, check_metadata=True)
    as_frame = load_value(skeleton, pd.DataFrame, store=store)
    pd.testing.assert_frame_equal(as_frame, table.to_pandas())


def test_a_frame_of_mixed_objects_is_refused_with_a_fix(store: LocalStore) -> None:
    with pytest.raises(CodecError, match=r"parquet codec cannot write.*astype"):
        store_value(pd.DataFrame({"o": [1, "a"]}), pd.DataFrame, store=store, prefix=PREFIX)


@pytest.mark.parametrize("array", [
    np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.array([1, -2, 3], dtype=np.int64),
    np.array([[True, False]]), np.array(["ab", "c"]), np.array(["2026-01-01", "NaT"], dtype="datetime64[ms]"),
    np.asfortranarray(np.eye(3)), np.array([np.nan, np.inf, -0.0]), np.zeros((0, 5), dtype=np.uint8),
])
def test_an_array_comes_back_with_its_dtype_and_shape(store: LocalStore, array: Any) -> None:
    back, skeleton = round_trip(array, np.ndarray, store)
    assert back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array, equal_nan=array.dtype.kind in "fcmM")
    assert ValueRef.decode(skeleton).key.endswith("values/output.npy")


def test_an_annotated_numpy_scalar_comes_back_as_one(store: LocalStore) -> None:
    back, _ = round_trip(np.float32(0.5), np.float32, store)
    assert type(back) is np.float32 and back == np.float32(0.5)


def test_an_array_of_python_objects_is_refused_not_pickled(store: LocalStore) -> None:
    with pytest.raises(CodecError, match="dtype object"):
        encode(np.array([{"a": 1}], dtype=object), "npy")


def test_a_fitted_estimator_predicts_the_same_after_the_round_trip(store: LocalStore) -> None:
    X, y = datasets.load_breast_cancer(return_X_y=True)
    model = linear_model.LogisticRegression(max_iter=5000).fit(X, y)
    back, skeleton = round_trip(model, linear_model.LogisticRegression, store)
    assert isinstance(back, linear_model.LogisticRegression)
    assert np.array_equal(back.predict(X), model.predict(X))
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))
    ref = ValueRef.decode(skeleton)
    assert (ref.codec, ref.media_type, ref.key[-4:]) == ("pickle", "application/x-python-pickle", ".pkl")


def test_any_other_picklable_object_goes_by_pickle(store: LocalStore) -> None:
    assert round_trip(Opaque(7), Opaque, store)[0] == Opaque(7)
    assert round_trip(Opaque(8), Any, store)[0] == Opaque(8)


def test_json_values_come_back_as_their_types(store: LocalStore) -> None:
    plain, skeleton = round_trip(Plain(True, ["ok"]), Plain, store)
    assert plain == Plain(True, ["ok"]) and skeleton == {"passed": True, "reasons": ["ok"]}
    assert round_trip({"passed": True, "rows": 3}, Quality, store)[0] == {"passed": True, "rows": 3}
    counts, skeleton = round_trip({"n": np.int64(3), "mean": np.float64(0.5)}, Any, store)
    assert counts == {"n": 3, "mean": 0.5} and skeleton == counts  # numpy scalars: JSON, testable by `if`


def test_a_mixed_dataclass_stores_the_frame_and_keeps_the_scalars(store: LocalStore) -> None:
    report = Report(frame(), 0.93, ["balanced"])
    back, skeleton = round_trip(report, Report, store)
    assert isinstance(back, Report) and back.auc == 0.93 and back.notes == ["balanced"]
    pd.testing.assert_frame_equal(back.table, report.table)
    assert skeleton["auc"] == 0.93 and skeleton["notes"] == ["balanced"]  # the envelope's fields: `if r.auc > 0.9`
    assert ValueRef.decode(skeleton["table"]).key == f"{PREFIX}values/table.parquet"
    as_dict = load_value(skeleton, store=store)  # unannotated: a dict with the frame read back
    assert set(as_dict) == {"table", "auc", "notes"} and isinstance(as_dict["table"], pd.DataFrame)


def test_a_mixed_pydantic_model_and_named_tuple(store: LocalStore) -> None:
    embeddings = Embeddings(vectors=np.random.default_rng(0).normal(size=(4, 3)), dim=3)
    back, skeleton = round_trip(embeddings, Embeddings, store)
    assert isinstance(back, Embeddings) and back.dim == 3 and np.array_equal(back.vectors, embeddings.vectors)
    assert skeleton["dim"] == 3
    model = linear_model.LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    trained, skeleton = round_trip(Trained(model, 0.75), Trained, store)
    assert isinstance(trained, Trained) and trained.score == 0.75
    assert np.array_equal(trained.model.coef_, model.coef_)
    assert ValueRef.decode(skeleton[0]).key == f"{PREFIX}values/model.pkl"


def test_lists_dicts_and_tuples_of_rich_values(store: LocalStore) -> None:
    frames = [frame(), frame().iloc[:1]]
    back, skeleton = round_trip(frames, list[pd.DataFrame], store)
    for got, want in zip(back, frames, strict=True):
        pd.testing.assert_frame_equal(got, want)
    assert [ValueRef.decode(node).key.rsplit("/", 1)[1] for node in skeleton] == ["0.parquet", "1.parquet"]
    arrays = {"train": np.arange(3), "a/b": np.ones(2)}
    back, skeleton = round_trip(arrays, dict[str, np.ndarray], store)
    assert back.keys() == arrays.keys() and all(np.array_equal(back[k], arrays[k]) for k in arrays)
    assert len({ref.key for _, ref in value_refs(skeleton)}) == 2
    pair, _ = round_trip((np.arange(2), 0.5), tuple[np.ndarray, float], store)
    assert isinstance(pair, tuple) and np.array_equal(pair[0], np.arange(2)) and pair[1] == 0.5


def test_optional_rich_values_may_be_none(store: LocalStore) -> None:
    assert round_trip(None, Optional[pd.DataFrame], store) == (None, None)  # noqa: UP045 - the form under test


def test_a_torch_tensor_and_state_dict_round_trip(store: LocalStore) -> None:
    torch = pytest.importorskip("torch")
    tensor = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    back, _ = round_trip(tensor, torch.Tensor, store)
    assert torch.equal(back, tensor) and back.dtype == tensor.dtype
    state = {"weight": torch.ones(2, 2), "bias": torch.zeros(2)}
    assert codec_for_value(state) == "torch"
    back, skeleton = round_trip(state, dict[str, torch.Tensor], store)
    assert ValueRef.decode(skeleton).codec == "torch"
    assert back.keys() == state.keys() and all(torch.equal(back[k], state[k]) for k in state)


# --- files and folders -------------------------------------------------------------------------------

def test_a_file_artifact_is_stored_and_opened_again(store: LocalStore, tmp_path: Path) -> None:
    written = tmp_path / "report.html"
    written.write_text("<h1>ok</h1>")
    back, skeleton = round_trip(Artifact(written), Artifact, store)
    ref = ValueRef.decode(skeleton)
    assert (ref.codec, ref.media_type, ref.name) == ("file", "text/html", "report.html")
    assert ref.key == f"{PREFIX}values/output.html"
    assert isinstance(back, Artifact) and back.name == "report.html" and back.path != written
    assert back.read_text() == "<h1>ok</h1>" and back.uri == ref.key
    with back.open("r") as handle:
        assert handle.read() == "<h1>ok</h1>"
    assert open(back).read() == "<h1>ok</h1>"  # noqa: SIM115 - os.PathLike, as a Path is
    from_path, _ = round_trip(written, Artifact, store)  # `-> Artifact` that returned the path it wrote
    assert from_path.read_text() == "<h1>ok</h1>"


def test_a_folder_artifact_is_one_archive_with_a_stable_hash(store: LocalStore, tmp_path: Path) -> None:
    folder = Artifact.new_folder("model")
    (folder.path / "weights").mkdir()
    (folder.path / "weights" / "layer.bin").write_bytes(b"\x00\x01")
    (folder.path / "config.json").write_text("{}")
    first = store_value(folder, Artifact, store=store, prefix=PREFIX)
    os.utime(folder.path / "config.json", (1, 1))  # a later time: the same files, the same bytes
    again = store_value(folder, Artifact, store=store, prefix="runs/wf/r-2/step/attempt-0/")
    ref = ValueRef.decode(first.skeleton)
    assert (ref.codec, ref.media_type, ref.name) == ("folder", "application/x-tar", "model")
    assert ref.hash == ValueRef.decode(again.skeleton).hash
    back = load_value(first.skeleton, Artifact, store=store)
    assert back.is_folder and back.name == "model"
    assert list(back.files()) == [Path("config.json"), Path("weights/layer.bin")]
    assert (back.path / "weights" / "layer.bin").read_bytes() == b"\x00\x01"
    copy = materialize(ref, store, into=tmp_path / "here")
    assert copy.path == tmp_path / "here" / "model" and list(copy.files()) == list(back.files())


# --- unannotated values ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "codec"), [
    ({"rows": 3, "ok": True}, "json"), ([1, 2.5, None], "json"), (np.float64(0.5), "json"), (np.int64(3), "json"),
    (Plain(True, []), "json"), (pd.DataFrame({"a": [1]}), "parquet"), (pd.Series([1.0]), "parquet"),
    (pa.table({"a": [1]}), "parquet"), (np.arange(3), "npy"), (linear_model.LogisticRegression(), "pickle"),
    (Opaque(1), "pickle"), ({"df": pd.DataFrame({"a": [1]}), "auc": 0.9}, "mixed"), ([np.arange(2)], "mixed"),
])
def test_an_unannotated_value_picks_its_codec(value: Any, codec: str) -> None:
    assert codec_for_value(value) == codec


def test_an_unannotated_artifact_is_a_file_or_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    assert codec_for_value(Artifact(tmp_path / "a.txt")) == "file"
    assert codec_for_value(Artifact(tmp_path)) == "folder"


def test_an_unannotated_mixed_dict_round_trips(store: LocalStore) -> None:
    value = {"table": frame(), "auc": 0.9, "model": Opaque(2)}
    back, skeleton = round_trip(value, Any, store)
    assert skeleton["auc"] == 0.9 and back["model"] == Opaque(2)
    pd.testing.assert_frame_equal(back["table"], value["table"])


# --- user codecs -------------------------------------------------------------------------------------

class Temperature:
    def __init__(self, celsius: float) -> None:
        self.celsius = celsius

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Temperature) and other.celsius == self.celsius


def _register_temperature() -> None:
    register_codec("temperature", "text/x-temperature", ".temp", types=[Temperature],
                   encode=lambda t: f"{t.celsius}C".encode(),
                   decode=lambda data: Temperature(float(data.decode().removesuffix("C"))))


def test_a_user_codec_carries_its_type(store: LocalStore) -> None:
    _register_temperature()
    _register_temperature()  # a module imported twice registers the same codec again: no error
    assert codec_for_annotation(Temperature).codec == "temperature"
    assert codec_for_annotation(list[Temperature]).describe() == "list of temperature"
    assert codec_for_value(Temperature(1.0)) == "temperature"
    back, skeleton = round_trip(Temperature(21.5), Temperature, store)
    ref = ValueRef.decode(skeleton)
    assert back == Temperature(21.5) and store.read(ref.key) == b"21.5C"
    assert (ref.codec, ref.media_type, ref.key) == ("temperature", "text/x-temperature", f"{PREFIX}values/output.temp")


def test_a_user_codec_by_name_or_predicate_takes_over_a_builtin(store: LocalStore) -> None:
    class Frame(pd.DataFrame):  # stored as CSV by the user's codec; plain DataFrames stay Parquet
        pass

    register_codec("test-csv", "text/csv", ".csv", predicate=lambda cls: cls.__name__ == "Frame",
                   encode=lambda df: df.to_csv().encode(),
                   decode=lambda data: pd.read_csv(__import__("io").BytesIO(data), index_col=0))
    assert codec_for_annotation(Frame).codec == "test-csv" and codec_for_annotation(pd.DataFrame).codec == "parquet"
    back, _ = round_trip(Frame({"a": [1, 2]}), Frame, store)
    pd.testing.assert_frame_equal(back, pd.DataFrame({"a": [1, 2]}))


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"name": "pickle"}, "is built in"), ({"name": "Bad Name"}, "lower-case"),
    ({"media_type": "csv"}, "type/subtype"), ({"suffix": "csv"}, "suffix"), ({"types": []}, "names no types"),
])
def test_a_codec_that_cannot_be_registered_says_why(kwargs: dict[str, Any], words: str) -> None:
    given: dict[str, Any] = {"name": "bad-one", "media_type": "text/plain", "suffix": ".txt",
                             "types": [Temperature], "encode": bytes, "decode": bytes} | kwargs
    with pytest.raises(CodecRegistrationError, match=words):
        register_codec(given.pop("name"), given.pop("media_type"), given.pop("suffix"), **given)


def test_another_codec_under_a_taken_name_is_refused() -> None:
    register_codec("taken", "text/plain", ".txt", types=[Temperature], encode=bytes, decode=bytes)
    with pytest.raises(CodecRegistrationError, match="registered already"):
        register_codec("taken", "text/plain", ".other", types=[Temperature], encode=bytes, decode=bytes)
    register_codec("taken", "text/plain", ".other", types=["x.Y"], encode=bytes, decode=bytes, replace=True)
    assert codec_spec("taken").suffix == ".other" and codec_spec("taken").types == ("x.Y",)


# --- stored bytes are checked ------------------------------------------------------------------------

def test_a_corrupted_pickle_is_refused_naming_its_key(store: LocalStore) -> None:
    stored = store_value(Opaque(1), Opaque, store=store, prefix=PREFIX)
    ref = ValueRef.decode(stored.skeleton)
    store.write(ref.key, pickle.dumps(Opaque(666), protocol=5))  # replaced after it was written
    with pytest.raises(CorruptValueError, match=ref.key) as caught:
        load_value(stored.skeleton, Opaque, store=store)
    assert caught.value.key == ref.key and caught.value.expected == ref.hash
    with pytest.raises(CorruptValueError, match=ref.key):
        load_pickle(store.read(ref.key), key=ref.key, expected_hash=ref.hash)
    error = pickle.loads(pickle.dumps(caught.value))  # it crosses processes (a run of its own) intact
    assert isinstance(error, CorruptValueError) and error.key == ref.key


def test_a_reference_outside_the_workflow_is_not_read(store: LocalStore) -> None:
    stored = store_value(Opaque(1), Opaque, store=store, prefix="runs/other/r-9/step/attempt-0/")
    with pytest.raises(CodecError, match="outside 'runs/wf/'"):
        load_value(stored.skeleton, Opaque, store=store, within="runs/wf/")
    assert load_value(stored.skeleton, Opaque, store=store, within="runs/other/") == Opaque(1)


def test_a_pickle_is_never_decoded_without_its_hash() -> None:
    with pytest.raises(CodecError, match="without their content hash"):
        decode(pickle.dumps(Opaque(1)), "pickle", key="runs/x/values/output.pkl")


def test_any_stored_value_that_changed_is_refused(store: LocalStore) -> None:
    stored = store_value(np.arange(3), np.ndarray, store=store, prefix=PREFIX)
    ref = ValueRef.decode(stored.skeleton)
    store.write(ref.key, encode(np.arange(4), "npy"))
    with pytest.raises(CorruptValueError, match=ref.key):
        load_value(stored.skeleton, np.ndarray, store=store)


# --- references and keys ------------------------------------------------------------------------------

def test_value_keys_are_safe_and_distinct() -> None:
    assert value_key(PREFIX, (), ".npy") == f"{PREFIX}values/output.npy"
    assert value_key(PREFIX, ("models", 3), ".pkl") == f"{PREFIX}values/models/3.pkl"
    odd = [value_key(PREFIX, (k,), ".npy") for k in ("a/b", "a_b", "a?b", "..", ".hidden")]
    assert len(set(odd)) == len(odd) and all("/../" not in k and "/values/." not in k for k in odd)
    assert all(key.count("/") == PREFIX.count("/") + 1 for key in odd)


def test_a_reference_of_the_wrong_shape_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        ValueRef.decode({"stepstone_ref": {"key": "k", "codec": "npy"}})
    with pytest.raises(ProtocolError):
        ValueRef.decode({"key": "k"})
