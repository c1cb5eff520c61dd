"""Hostile and broken input, through the real command line (issue 8, part 3).

Broken workflow files (syntax errors, files that fail or exit at import, binary and empty
files, folders, wrong types, cycles, defaults JSON cannot hold, huge literals, odd and
reserved names), fuzzed run parameters and fuzzed S3 events. Each is refused with a line
that says what is wrong, where (file:line when there is one) and what to do; the exit code
is 2 (bad input; ``validate`` says 1 for an invalid workflow, its verdict); "Traceback" is
never printed; and a run never starts with parameters that do not validate.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from compiler.deployment.rules import s3_event_pattern, s3_input_transformer, s3_relay_transformer
from compiler.dsl.errors import ParamsError
from compiler.dsl.workflows import WorkflowDef
from examples.etl_s3 import etl_s3
from examples.ml_training import ml_training
from lambdas.errors import BadEventError
from lambdas.s3_trigger import decoded_input
from stepstone.cli import main
from tests.support.reliability import count

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "stepstone"
EXAMPLES = {"etl_s3": (ROOT / "examples" / "etl_s3.py", etl_s3),
            "ml_training": (ROOT / "examples" / "ml_training.py", ml_training)}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def refused(result: Result, *, code: int = 2, where: str | None = None, says: tuple[str, ...] = ()) -> None:
    """Exit ``code``, a line starting with the error (and where it is), a hint, no traceback."""
    text = result.output
    assert result.exit_code == code, f"exit {result.exit_code}, not {code}:\n{text}"
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    first = next((line for line in text.splitlines() if "error" in line), "")
    assert first, f"no error line in:\n{text}"
    if where is not None:
        assert where in first, f"{where!r} is not in the error line {first!r}"
    for words in says:
        assert words in text, f"{words!r} is not in:\n{text}"
    assert "hint:" in text, f"no hint (what to do) in:\n{text}"


def unique(stem: str) -> str:
    """A module name no other test has imported (the command line imports in this process)."""
    return f"{stem}_{uuid.uuid4().hex[:8]}"


# --- broken workflow files ----------------------------------------------------------------

HEAD = '''from typing import Any

from pydantic import BaseModel

from stepstone import step, workflow


@step
def show(x: Any) -> str:
    return str(x)

'''  # 11 lines: what a case adds starts at line 12
ONE = HEAD + '''
@workflow
def flow(x: int = 1) -> str:
    return show(x)
'''


@dataclass(frozen=True)
class Broken:
    """A broken workflow file: its text, what the error must say and at which line."""

    text: str | bytes
    says: tuple[str, ...]
    line: int | None = None
    loads: bool = True  # False: the file does not even load (validate says 2, not its verdict 1)
    name: str = ""  # FILE:NAME
    drawn: bool = False  # found by a whole-workflow check, which `graph` (a drawing) does not run


BROKEN: dict[str, Broken] = {
    "syntax_error": Broken("from stepstone import step\n\n\n@step\ndef a(x: int) -> int:\n    return x +\n",
                           ("syntax error", "return x +"), 6),
    "indentation_error": Broken("def a():\n    x = 1\n        return x\n", ("unexpected indent",), 3),
    "tabs_and_spaces": Broken("if True:\n\tx = 1\n        y = 2\n", ("inconsistent use of tabs and spaces",), 3),
    "raises_at_import": Broken("import os\nRATE = 1 / 0\n", ("ZeroDivisionError: division by zero",), 2),
    "missing_package": Broken("import numpy_that_is_not_installed\n",
                              ("No module named 'numpy_that_is_not_installed'", "pip install"), 1),
    "exits_at_import": Broken("import sys\n\nsys.exit(0)\n", ("sys.exit(0)", "__main__"), 3),
    "recursion_at_import": Broken("def f():\n    return f()\n\n\nf()\n", ("RecursionError",), 2),
    "binary_bytes": Broken(b"\x00\x01\x02\xff\xfe\x89PNG\r\n", ("not Python source",), 1),
    "not_utf8": Broken(b"x = '\xff\xfe'\n", ("not Python source",), 1),
    "empty_file": Broken("", ("no @workflow",), loads=False),
    "no_workflow": Broken(HEAD, ("no @workflow",), loads=False),
    "default_of_the_wrong_type": Broken(HEAD + '\n@workflow\ndef flow(x: int = "abc") -> str:\n    return show(x)\n',
                                        ("error[bad-default]", "'abc'", "int"), 14),
    "step_returns_a_lock": Broken(HEAD + "import threading\n\n\n@step\ndef lock(x: int) -> threading.Lock:\n"
                                  "    return threading.Lock()\n\n\n@workflow\ndef flow(x: int = 1) -> str:\n"
                                  "    return show(lock(x))\n",
                                  ("error[unserializable-type]", "lock"), 16),
    "step_takes_an_open_socket": Broken(HEAD + "import socket\n\n\n@step\ndef use(h: socket.socket) -> str:\n"
                                        "    return ''\n\n\n@workflow\ndef flow(x: int = 1) -> str:\n"
                                        "    return use(x)\n", ("error[unserializable-type]", "socket"), 16),
    "parameter_nothing_carries": Broken(HEAD + "from collections.abc import Iterator\n\n\n@workflow\n"
                                        "def flow(h: Iterator[int]) -> str:\n    return show(h)\n",
                                        ("error[bad-parameters]", "Iterator[int]"), 16),
    "object_default": Broken(HEAD + "\n@workflow\ndef flow(x=object()) -> str:\n    return show(x)\n",
                             ("error[bad-default]", "JSON"), 14),
    "nan_default": Broken(HEAD + '\n@workflow\ndef flow(x: float = float("nan")) -> str:\n    return show(x)\n',
                          ("error[bad-default]", "NaN"), 14),
    "infinite_default": Broken(HEAD + '\n@workflow\ndef flow(x: float = float("inf")) -> str:\n    return show(x)\n',
                               ("error[bad-default]", "infinite"), 14),
    "nan_default_in_the_params_model": Broken(
        HEAD + "class Request(BaseModel):\n    rate: float = float('-inf')\n\n\n@workflow\n"
        "def flow(request: Request) -> str:\n    return show(request.rate)\n", ("error[bad-default]", "rate"), 13),
    "huge_string_literal": Broken(HEAD + '\n@workflow\ndef flow(x: int = 1) -> str:\n    return show("'
                                  + "x" * 1_000_000 + '")\n', ("error[literal-too-large]", "1,000,002 bytes"), 15),
    "huge_list_literal": Broken(HEAD + "\n@workflow\ndef flow(x: int = 1) -> str:\n    return show(["
                                + ", ".join(map(str, range(100_000))) + "])\n", ("error[literal-too-large]",), 15),
    "huge_default": Broken(HEAD + '\n@workflow\ndef flow(x: str = "' + "x" * 1_000_000 + '") -> str:\n'
                           "    return show(x)\n", ("error[bad-default]", "16,384"), 14),
    "workflows_start_each_other": Broken(
        HEAD + "\n@workflow\ndef ingest(x: int = 1) -> str:\n    reprocess(x)\n    return show(x)\n\n\n"
        "@workflow\ndef reprocess(x: int = 1) -> str:\n    ingest(x)\n    return show(x)\n",
        ("error[cycle]", "ingest -> reprocess -> ingest"), name="ingest", drawn=True),
    "a_workflow_calls_itself": Broken(HEAD + "\n@workflow\ndef flow(x: int = 1) -> str:\n    flow(x)\n"
                                      "    return show(x)\n", ("error[cycle]", "calls itself"), 15),
    "two_workflows_one_name": Broken(
        HEAD + '\n@workflow(name="nightly")\ndef first(x: int = 1) -> str:\n    return show(x)\n\n\n'
        '@workflow(name="nightly")\ndef second(x: int = 1) -> str:\n    return show(x)\n',
        ("error[duplicate-workflow-name]", "first (line 14) and second (line 19)"), 19),
    "unicode_workflow_name": Broken(HEAD + '\n@workflow(name="wörkflow")\ndef flow(x: int = 1) -> str:\n'
                                    "    return show(x)\n", ("error[bad-name]", "wörkflow"), 13),
    "emoji_step_name": Broken(ONE.replace("@step\n", '@step(name="🚀")\n'), ("error[bad-name]", "🚀"), 8),
    "space_in_a_step_name": Broken(ONE.replace("@step\n", '@step(name="load data")\n'),
                                   ("error[bad-name]", "load data"), 8),
    "workflow_name_over_80_characters": Broken(ONE.replace("@workflow\n", f'@workflow(name="{"w" * 81}")\n'),
                                               ("error[bad-name]", "at most 64"), 13),
    "step_name_over_64_characters": Broken(ONE.replace("@step\n", f'@step(name="{"s" * 65}")\n'),
                                           ("error[bad-name]",), 8),
    "parameter_named_vars": Broken(HEAD + "\n@workflow\ndef flow(vars: int = 1) -> str:\n    return show(vars)\n",
                                   ("error[bad-parameters]", "'vars'"), 14),
    "parameter_named_map_path": Broken(HEAD + "\n@workflow\ndef flow(map_path: int = 1) -> str:\n"
                                       "    return show(map_path)\n", ("error[bad-parameters]", "'map_path'"), 14),
    "parameter_named_stepstone_trigger": Broken(
        HEAD + "\n@workflow\ndef flow(stepstone_trigger: int = 1) -> str:\n    return show(stepstone_trigger)\n",
        ("error[bad-parameters]", "'stepstone_trigger'"), 14),
}
COMMANDS = ("compile", "validate", "run", "graph", "cost", "trigger")


def write(folder: Path, case: str, text: str | bytes) -> Path:
    path = folder / f"{unique(case)}.py"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_workflow_file_is_refused_by_every_command(case: str, tmp_path: Path) -> None:
    broken = BROKEN[case]
    path = write(tmp_path, case, broken.text)
    spec = f"{path}:{broken.name}" if broken.name else str(path)
    where = f"{path.name}:{broken.line}" if broken.line else path.name
    for command in COMMANDS:
        result = cli(command, spec)
        if command == "graph" and broken.drawn:
            assert result.exit_code == 0 and "Traceback" not in result.output, result.output
            continue
        code = 1 if command == "validate" and broken.loads else 2
        if command == "validate" and code == 1:  # its verdict: a line per workflow, then the error
            assert result.exit_code == 1 and "Traceback" not in result.output, result.output
            assert f"{where}" in result.output and all(w in result.output for w in broken.says), result.output
            continue
        refused(result, code=code, where=where, says=broken.says)
    assert not (Path(os.environ["STEPSTONE_HOME"]) / "runs").exists(), "no run started"
    count("hostile input: broken workflow files, each refused with a message", 1)


@pytest.mark.parametrize("kind", ["missing", "folder", "not_python", "dotted_name"])
def test_a_path_that_is_no_workflow_file_is_refused(kind: str, tmp_path: Path) -> None:
    path = {"missing": tmp_path / "nowhere.py", "folder": tmp_path / "folder.py",
            "not_python": tmp_path / "notes.txt", "dotted_name": tmp_path / f"{unique('etl')}.v2.py"}[kind]
    says = {"missing": "no such file", "folder": "is a folder", "not_python": "not a Python file",
            "dotted_name": "cannot be imported as a Python module"}[kind]
    if kind == "folder":
        path.mkdir()
    elif kind != "missing":
        path.write_text(ONE, encoding="utf-8")
    for command in COMMANDS:
        refused(cli(command, str(path)), says=(says,))
    count("hostile input: broken workflow files, each refused with a message", 1)


def test_a_cycle_across_two_files_is_an_import_error(tmp_path: Path) -> None:
    first, second = unique("ingest"), unique("reprocess")
    (tmp_path / f"{first}.py").write_text(
        HEAD + f"from {second} import reprocess\n\n\n@workflow\ndef ingest(x: int = 1) -> str:\n"
        "    reprocess(x)\n    return show(x)\n", encoding="utf-8")
    (tmp_path / f"{second}.py").write_text(
        HEAD + f"from {first} import ingest\n\n\n@workflow\ndef reprocess(x: int = 1) -> str:\n"
        "    ingest(x)\n    return show(x)\n", encoding="utf-8")
    for command in ("compile", "run", "graph"):
        refused(cli(command, str(tmp_path / f"{first}.py")), says=("circular import",))


def test_datetime_and_set_defaults_travel_as_json(tmp_path: Path) -> None:
    """Defaults pydantic writes as JSON are fine: the run gets the ISO date and the list."""
    path = write(tmp_path, "dates", HEAD.replace("from typing import Any", "import datetime\nfrom typing import Any")
                 + "\n@workflow\ndef flow(day: datetime.date = datetime.date(2024, 6, 2), tags: set[int] = {3}) -> str:"
                 "\n    return show(day)\n")
    result = cli("run", str(path))
    assert result.exit_code == 0, result.output
    (record,) = (Path(os.environ["STEPSTONE_HOME"]) / "runs" / "flow").glob("*/run.json")
    assert json.loads(record.read_text())["params"] == {"day": "2024-06-02", "tags": [3]}


@pytest.mark.parametrize("step_name,workflow_name", [("vars", "map_path"), ("map_path", "stepstone_trigger"),
                                                     ("stepstone_trigger", "vars"), ("None", "class"),
                                                     ("load-data", "nightly-etl"), ("s" * 64, "w" * 64)])
def test_names_that_look_reserved_are_names_like_any_other(step_name: str, workflow_name: str,
                                                           tmp_path: Path) -> None:
    """Step and workflow names live in state names and ARNs, never beside the run's own keys."""
    path = write(tmp_path, "named", ONE.replace("@step\n", f"@step(name={step_name!r})\n")
                 .replace("@workflow\n", f"@workflow(name={workflow_name!r})\n"))
    assert cli("validate", str(path)).exit_code == 0
    states = json.loads(cli("compile", str(path)).output)["States"]
    assert step_name in states
    result = cli("run", str(path), "-p", "x=41")
    assert result.exit_code == 0 and "output: 41" in result.output, result.output


AWS_STATE_MACHINE_NAME = re.compile(r"^[0-9A-Za-z_-]{1,80}$")  # CreateStateMachine's rule for `name`
AWS_STATE_NAME_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


@FUZZ
@given(name=st.text(min_size=0, max_size=100), where=st.sampled_from(["workflow", "step"]))
@example(name="A\n", where="step")  # found by CI: a trailing newline passed a name pattern ending in $
@example(name="A\n", where="workflow")
def test_any_name_compiles_to_names_aws_takes_or_is_refused_where_written(name: str, where: str,
                                                                           tmp_path: Path) -> None:
    text = (ONE.replace("@workflow\n", f"@workflow(name={name!r})\n") if where == "workflow"
            else ONE.replace("@step\n", f"@step(name={name!r})\n"))
    path = write(tmp_path, "odd", text)
    result = cli("compile", str(path))
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        definition = json.loads(result.output)
        if where == "workflow":
            assert AWS_STATE_MACHINE_NAME.match(name), f"{name!r} compiled, but AWS refuses it as a state machine name"
        else:
            assert name in definition["States"] and len(name) <= 80 and not AWS_STATE_NAME_FORBIDDEN.search(name)
    else:
        refused(result, where=f"{path.name}:{13 if where == 'workflow' else 8}", says=("error[bad-name]",))
    count("hostile input: odd workflow and step names, each compiled or refused", 1)


@pytest.mark.parametrize("case", ["syntax_error", "exits_at_import", "binary_bytes"])
def test_no_traceback_escapes_the_process(case: str, tmp_path: Path) -> None:
    path = write(tmp_path, case, BROKEN[case].text)
    env = {**os.environ, "STEPSTONE_HOME": str(tmp_path / "home")}
    for command in ([str(BIN), "run", str(path)], [sys.executable, "-m", "stepstone", "compile", str(path)],
                    [str(BIN), "run", str(ROOT / "examples" / "etl_s3.py"), "-p", "key=[[[[", "-p", "kee=1"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stdout + done.stderr and "error" in done.stderr, done.stderr
    assert not (tmp_path / "home" / "runs").exists()


@pytest.mark.parametrize("args,says", [
    (["run", "{etl}", "--home", "{file}"], "it is not a folder"),
    (["trigger", "{etl}", "--home", "{file}"], "it is not a folder"),
    (["compile", "{etl}", "-o", "{file}/etl.json"], "cannot write"),
    (["graph", "{etl}", "-o", "{tmp}/no/such/folder/etl.mmd"], "cannot write"),
])
def test_an_output_place_that_cannot_be_written_is_one_line(args: list[str], says: str, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder", encoding="utf-8")
    filled = [a.format(etl=EXAMPLES["etl_s3"][0], file=tmp_path / "file", tmp=tmp_path) for a in args]
    refused(cli(*filled), says=(says,))


def test_a_since_further_back_than_dates_go_lists_every_run() -> None:
    result = cli("runs", "--since", "99999999d")
    assert result.exit_code in (0, 1) and "no runs" in result.output, result.output  # not a crash (exit 70)
    refused(cli("runs", "--since", "²d"), says=("neither a duration nor a date",))


# --- fuzzed parameters ----------------------------------------------------------------------

NAMES = {"etl_s3": ["bucket", "key"],
         "ml_training": ["model_name", "rows", "seed", "min_auc", "max_null_fraction", "bucket", "key"]}
TYPOS = ["kee", "Key", "key ", "min_acu", "rows2", "", "=", "id", "vars", "password", "ö", "🚀", "a b"]
scalars = (st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=30)
           | st.sampled_from(["", "NaN", "Infinity", "-0", "1e309", "０", "\u202e", "s3://raw-data/ä ö.csv"]))
junk = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
# rows decide how long a valid ml_training run takes: valid ones are kept small
rows = (st.integers(100, 300) | st.integers(-(10**30), 99) | st.integers(1_000_001, 10**30)
        | st.sampled_from(["150", "1e3", 150.0, 150.5, "abc", None, [], {}]))
texts = (st.text(max_size=40) | st.sampled_from(["{", "[1,", '"unclosed', "[" * 3000, "{\"a\": 1, \"a\": 2}",
                                                  "NaN", "-Infinity", "nul\u0000l", '"' + "x" * 20_000 + '"']))


PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "bucket": st.text(max_size=30) | st.none(), "key": st.text(max_size=60) | st.none(),
    "model_name": st.text(max_size=30), "rows": st.integers(100, 300), "seed": st.integers(-(10**30), 10**30),
    "min_auc": st.floats(0.5, 1.0), "max_null_fraction": st.floats(-1e300, 1e300)}


@st.composite
def parameter_sets(draw: st.DrawFn, workflow: str) -> tuple[tuple[str, ...], str | bytes | None]:
    """``-p NAME=VALUE`` pairs and an ``-i`` file's content (or none): half of them what a
    person would pass (most valid), half hostile (almost all invalid)."""
    if draw(st.booleans()):
        plausible = {**PLAUSIBLE, "bucket": st.text(max_size=30), "key": st.text(max_size=60)} \
            if workflow == "etl_s3" else PLAUSIBLE  # str there, str | None in ml_training
        values = {name: draw(plausible[name]) for name in draw(st.lists(st.sampled_from(NAMES[workflow]),
                                                                        unique=True, max_size=4))}
        in_file = draw(st.sets(st.sampled_from(sorted(values)))) if values else set()
        pairs = tuple(f"{name}={draw(st.sampled_from([json.dumps(value), value]))}" if isinstance(value, str)
                      else f"{name}={json.dumps(value)}" for name, value in values.items() if name not in in_file)
        return pairs, json.dumps({name: values[name] for name in in_file}) if in_file else None

    def value_text(name: str) -> str:
        value = draw(rows if name == "rows" else junk)
        return draw(st.sampled_from([json.dumps(value), draw(texts)]))

    names = st.sampled_from(NAMES[workflow] + TYPOS) | st.text(max_size=10)
    pairs = [f"{name}={value_text(name)}" for name in draw(st.lists(names, max_size=4))]
    pairs += draw(st.lists(st.sampled_from(["novalue", "=1", " =2"]), max_size=1))
    content: str | bytes | None = draw(st.one_of(
        st.none(),
        st.dictionaries(names, rows, max_size=4).map(json.dumps),
        st.sampled_from(['{"key": "a", "key": "b"}', "[1, 2]", "not json", "", b"\xff\xfe{}", '"key"', "null",
                         '{"bucket": NaN}', "[" * 5000 + "]" * 5000])))
    return tuple(pairs), content


def read_json_object(text: str) -> dict[str, Any] | None:
    """The documented reading of --input: a JSON object, each key once; None when it is not."""
    def once(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in items}) != len(items):
            raise ValueError("a key twice")
        return dict(items)

    try:
        loaded = json.loads(text, object_pairs_hook=once)
    except (ValueError, RecursionError):
        return None
    return loaded if isinstance(loaded, dict) else None


def expected_params(definition: WorkflowDef[..., Any], pairs: tuple[str, ...],
                    content: str | bytes | None) -> dict[str, Any] | None:
    """What a run must start with (the documented reading of -i and -p, then the workflow's
    own validate_params, i.e. pydantic), or None: refused."""
    params: dict[str, Any] = {}
    if content is not None:
        try:
            text = content.decode("utf-8") if isinstance(content, bytes) else content
        except UnicodeDecodeError:
            return None
        loaded = read_json_object(text)
        if loaded is None:
            return None
        params.update(loaded)
    seen = set()
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name or name in seen:
            return None
        seen.add(name)
        try:
            params[name] = json.loads(text)
        except ValueError:
            params[name] = text
        except RecursionError:
            return None
    try:
        return definition.validate_params(params)
    except ParamsError:
        return None


def run_folders(workflow: str) -> set[Path]:
    return set((Path(os.environ["STEPSTONE_HOME"]) / "runs" / workflow).glob("*"))


def options(pairs: tuple[str, ...], content: str | bytes | None, folder: Path) -> list[str]:
    args = [f"--param={pair}" for pair in pairs]
    if content is not None:
        file = folder / f"{uuid.uuid4().hex}.json"
        file.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        args += ["-i", str(file)]
    return args


@pytest.mark.parametrize("workflow", sorted(EXAMPLES))
@FUZZ
@given(data=st.data())
def test_a_run_starts_only_with_parameters_that_validate(workflow: str, data: st.DataObject, tmp_path: Path) -> None:
    path, definition = EXAMPLES[workflow]
    pairs, content = data.draw(parameter_sets(workflow))
    expected = expected_params(definition, pairs, content)
    assume(expected is None or expected.get("rows", 0) <= 1000)  # a valid run that trains for minutes: no
    event("valid: the run starts" if expected is not None else "invalid: refused")
    before = run_folders(definition.name)
    result = cli("run", str(path), *options(pairs, content, tmp_path), "--approve")
    started = run_folders(definition.name) - before
    assert "Traceback" not in result.output, result.output
    if expected is None:
        refused(result)
        assert not started, "a run started with parameters that do not validate"
    else:
        assert result.exit_code in (0, 1), result.output  # it ran (and the run's own verdict)
        (folder,) = started
        assert json.loads((folder / "run.json").read_text())["params"] == expected
    count("hostile input: fuzzed parameter sets (valid ran, invalid refused before a run)", 1)


@pytest.mark.parametrize("workflow", sorted(EXAMPLES))
@FUZZ
@given(data=st.data())
def test_trigger_starts_a_run_only_with_parameters_that_validate(workflow: str, data: st.DataObject, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``stepstone trigger`` checks the parameters before it starts the run's own process
    (replaced here by a recorder: what it would be started with)."""
    from stepstone.targets.local import LocalTarget

    path, definition = EXAMPLES[workflow]
    pairs, content = data.draw(parameter_sets(workflow))
    expected = expected_params(definition, pairs, content)
    event("valid: the run starts" if expected is not None else "invalid: refused")
    starts: list[dict[str, Any] | None] = []

    def start_local(self: LocalTarget, *args: Any, params: dict[str, Any] | None, **kwargs: Any) -> Path:
        starts.append(dict(params) if params is not None else None)
        return tmp_path / "console.log"

    monkeypatch.setattr(LocalTarget, "_start", start_local)
    result = cli("trigger", str(path), *options(pairs, content, tmp_path))
    assert "Traceback" not in result.output, result.output
    if expected is None:
        refused(result)
        assert not starts
    else:
        assert result.exit_code == 0 and starts == [expected], result.output
    count("hostile input: fuzzed parameter sets (valid ran, invalid refused before a run)", 1)


def test_a_parameter_meant_as_text_is_told_how_to_quote() -> None:
    result = cli("run", str(EXAMPLES["etl_s3"][0]), "-p", "key=2024")
    refused(result, says=("""--param 'key="2024"'""",))


@pytest.mark.parametrize("args,says", [
    (["-p", "max_null_fraction=NaN"], "nan is not a JSON number"),
    (["-p", "max_null_fraction=-Infinity"], "-inf is not a JSON number"),
    (["-p", "model_name=" + "x" * 20_000], "may take at most 16,384"),
    (["-p", "seed=1", "-p", "seed=2"], "--param seed is given twice"),
    (["-p", "seed=" + "[" * 5000 + "]" * 5000], "nests deeper than stepstone reads"),
    (["-i", b'{"seed": 1, "seed": 2}'], "the key 'seed' appears twice"),
    (["-i", b"\xff\xfe{}"], "codec can't decode"),
    (["-i", b"[" * 5000 + b"]" * 5000], "nests deeper than stepstone reads"),
    (["-i", b'["seed"]'], "holds a list, not a JSON object"),
])
def test_parameters_json_cannot_carry_are_refused_before_a_run(args: list[Any], says: str, tmp_path: Path) -> None:
    if args[0] == "-i":
        (tmp_path / "params.json").write_bytes(args[1])
        args = ["-i", str(tmp_path / "params.json")]
    for command in ("run", "trigger"):
        refused(cli(command, str(EXAMPLES["ml_training"][0]), *args), says=(says,))
    assert not run_folders("ml_training")


def test_a_typo_in_a_parameter_name_is_refused_with_the_likely_name(tmp_path: Path) -> None:
    """ml_training takes a pydantic model, which by default ignores unknown fields: a typo
    would have been dropped silently."""
    refused(cli("run", str(EXAMPLES["ml_training"][0]), "-p", "min_acu=0.9"), says=("did you mean 'min_auc'",))
    assert not run_folders("ml_training")


# --- S3 events (the real EventBridge matcher is in tests/e2e/test_s3_events.py) -------------------------

TRIGGER = etl_s3.options.triggers[0]
STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:etl_s3"
s3_keys = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300).map(
    lambda middle: f"sales/{middle}.csv") | st.sampled_from(
    ["sales/a b.csv", "sales/ä ö ü.csv", "sales/a+b.csv", "sales/100%.csv", "sales/%41%zz.csv", "sales/日本語.csv",
     'sales/"quoted" \\ back.csv', "sales/tab\there.csv", "sales/" + "x" * 1000 + ".csv", "sales/🚀.csv"])


def transform(transformer: dict[str, Any], event: dict[str, Any]) -> Any:
    """EventBridge's InputTransformer as documented: each <name> (outside quotes) becomes the
    JSON value its path selects in the event, in one pass."""
    values = {}
    for name, path in transformer["InputPathsMap"].items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        values[name] = json.dumps(value)
    pattern = re.compile("<(" + "|".join(map(re.escape, values)) + ")>")
    return json.loads(pattern.sub(lambda match: values[match.group(1)], transformer["InputTemplate"]))


def s3_event(key: Any, bucket: Any = "raw-data", **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "version": "0", "source": "aws.s3", "detail-type": "Object Created",
            "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": key, "size": 3, **extra},
                       "reason": "PutObject"}}


@settings(max_examples=150, deadline=None)
@given(key=s3_keys, extra=st.dictionaries(st.text(max_size=5), junk, max_size=3))
def test_an_s3_event_gives_the_run_its_bucket_and_key(key: str, extra: dict[str, Any]) -> None:
    """On AWS the rule's InputTransformer gets the key as it is; on LocalStack percent-encoded,
    decoded by lambdas.s3_trigger. Either way the run's input holds the real key and validates."""
    on_aws = transform(s3_input_transformer(TRIGGER, etl_s3), s3_event(key, **extra))
    request = transform(s3_relay_transformer(TRIGGER, etl_s3, STATE_MACHINE), s3_event(quote(key), **extra))
    on_localstack = decoded_input(request)
    assert request["state_machine"] == STATE_MACHINE and request["run"]
    for document in (on_aws, on_localstack):
        trigger = document.pop("stepstone_trigger")
        assert trigger == {"kind": "s3", "bucket": "raw-data", "key": key}
        assert etl_s3.validate_params(document) == document == {"bucket": "raw-data", "key": key}
    count("hostile input: S3 event payloads fuzzed", 1)


@pytest.mark.parametrize("key,bucket", [("", "raw-data"), (None, "raw-data"), (7, "raw-data"), (["a"], "raw-data"),
                                        ("sales/a.csv", ""), ("sales/%FF.csv", "raw-data")])
def test_the_localstack_relay_starts_nothing_without_a_key_it_can_read(key: Any, bucket: str) -> None:
    """LocalStack's transformer puts "" where the event has no value; a crafted event can hold anything."""
    request = {"state_machine": STATE_MACHINE, "run": "e-1", "key_param": "key",
               "input": {"bucket": bucket, "key": key, "stepstone_trigger": {"kind": "s3", "bucket": bucket,
                                                                             "key": key}}}
    with pytest.raises(BadEventError):
        decoded_input(request)
    count("hostile input: S3 event payloads fuzzed", 1)


def test_every_s3_pattern_requires_a_key() -> None:
    """The pattern, not a Choice state, keeps an event without a key from starting a run (the
    real matcher's verdicts: tests/e2e/test_s3_events.py)."""
    from compiler.dsl.triggers import s3_upload

    for trigger in (TRIGGER, s3_upload("raw-data"), s3_upload("raw-data", "in/"), s3_upload("raw-data", "", ".csv")):
        for encoded in (False, True):
            assert s3_event_pattern(trigger, url_encoded_keys=encoded)["detail"]["object"]["key"]

