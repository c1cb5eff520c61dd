"""Packages declared next to the code: ``stepstone.packages(...)`` and ``@step(packages=...)``
checked where they are written, read from a requirements file or a pyproject group, resolved
into the file's lock (uv: exact versions with hashes, the versions installed here as
constraints), refreshed when what it was made from changes, and installed for Lambda's
platform (manylinux tags of Amazon Linux 2023 for python3.12, x86_64 and arm64)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import CompileError
from compiler.deployment.lock import (
    RUNNER_REQUIREMENTS,
    Declared,
    LockError,
    bundle_requirements,
    declared_for,
    ensure_lock,
    install,
    read_lock,
)
from compiler.deployment.plan import plan_deployment
from compiler.deployment.runtimes import function_python, runtime_for
from compiler.loader import load_module, workflows_in
from stepstone import Batch, packages, step, workflow
from stepstone.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_a_bad_requirement_is_refused_at_its_line() -> None:
    with pytest.raises(CompileError) as error:
        packages("scikit-learn", "-r other.txt")
    assert error.value.rule == "bad-option" and error.value.location is not None
    assert error.value.location.file == __file__ and "'-r other.txt'" in error.value.message
    with pytest.raises(CompileError, match="declares nothing"):
        packages()


@step(packages=["torch==2.9.1"])
def train_on_gpu(rows: int) -> int:
    return rows


@step
def prepare(rows: int) -> int:
    return rows


@workflow
def two_kinds(rows: int = 3) -> int:
    return train_on_gpu(prepare(rows))


def test_a_step_with_its_own_packages_gets_a_function_of_its_own() -> None:
    assert train_on_gpu.options.packages == ("torch==2.9.1",)
    plan = plan_deployment([two_kinds])
    by_steps = {f.steps: f for f in plan.functions}
    own = by_steps[(("two_kinds", "train_on_gpu"),)]
    assert own.packages == ("torch==2.9.1",) and own.key.startswith("1024mb300sPkgs")
    assert by_steps[(("two_kinds", "prepare"),)].packages == ()


@step(compute=Batch(gpus=1), packages=["torchvision==0.24.1"])
def embed_images(rows: int) -> int:
    return rows


@workflow
def with_a_job(rows: int = 3) -> int:
    return embed_images(train_on_gpu(rows))


def test_the_lock_covers_the_packages_of_steps_run_by_functions_and_by_jobs() -> None:
    assert plan_deployment([with_a_job]).step_packages == (
        ("embed_images", ("torchvision==0.24.1",)), ("train_on_gpu", ("torch==2.9.1",)))


def write_workflow(folder: Path, declaration: str) -> Path:
    file = folder / "flow.py"
    file.write_text(textwrap.dedent(f'''\
        import stepstone
        from stepstone import step, workflow

        {declaration}


        @step
        def one(n: int) -> int:
            return n


        @workflow
        def flow(n: int = 1) -> int:
            return one(n)
        '''))
    return file


def loaded(file: Path) -> Path:
    sys.modules.pop("flow", None)
    workflows_in(load_module(file))
    return file


def test_a_requirements_file_and_a_pyproject_group_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('''\
        [project]
        name = "myproject"
        [dependency-groups]
        base = ["six"]
        ml = [{include-group = "base"}, "pandas>=3"]
        '''))
    (tmp_path / "reqs.txt").write_text("# the data side\npyarrow  # parquet\n\n")
    file = loaded(write_workflow(tmp_path, 'stepstone.packages("numpy", file="reqs.txt", group="ml")'))
    declared = declared_for(file)
    assert declared.requirements == (*RUNNER_REQUIREMENTS, "numpy", "pyarrow", "six", "pandas>=3")
    assert declared.declares
    missing = loaded(write_workflow(tmp_path, 'stepstone.packages(group="gpu")'))
    with pytest.raises(LockError, match=r"has no group 'gpu' \(it has: base, ml\)"):
        declared_for(missing)


def test_the_lock_pins_what_is_installed_here_with_hashes_and_follows_a_change(tmp_path: Path) -> None:
    file = loaded(write_workflow(tmp_path, 'stepstone.packages("six")'))
    runtime = runtime_for("3.12")
    said: list[str] = []
    lock = ensure_lock(declared_for(file), runtime, said.append)
    assert lock.path == tmp_path / "flow.lock" and said and "writing" in said[0]
    from importlib import metadata

    assert lock.pins["six"] == metadata.version("six") and lock.pins["pydantic"] == metadata.version("pydantic")
    assert "--hash=sha256:" in lock.text and lock.inputs
    again = ensure_lock(declared_for(file), runtime, said.append)
    assert again.text == lock.text and len(said) == 1, "an up-to-date lock is not resolved again"
    changed = loaded(write_workflow(tmp_path, 'stepstone.packages("six", "typing-extensions")'))
    refreshed = ensure_lock(declared_for(changed), runtime, said.append)
    assert refreshed.inputs != lock.inputs and "updating" in said[-1]
    assert read_lock(changed) == refreshed


def test_a_bundle_installs_for_lambdas_platform_on_both_architectures(tmp_path: Path) -> None:
    file = loaded(write_workflow(tmp_path, 'stepstone.packages("pydantic-core")'))
    runtime = runtime_for("3.12")
    lock = ensure_lock(declared_for(file), runtime)
    for arch, machine in (("x86_64", "x86_64"), ("arm64", "aarch64")):
        text = bundle_requirements(lock, ["pydantic"], runtime, arch)
        assert "pydantic-core==" in text and "--hash=sha256:" in text
        size = install(text, tmp_path / arch, runtime, arch)
        (built,) = (tmp_path / arch / "pydantic_core").glob("_pydantic_core.*.so")
        assert "cpython-312" in built.name and machine in built.name, built.name
        assert size > 1_000_000


def test_the_functions_python_is_one_amazon_linux_2023_runs() -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert function_python() == (here if here != "3.11" else "3.12")
    assert function_python("3.11") == "3.11"
    assert runtime_for("3.11").platform("x86_64") == "x86_64-manylinux_2_26", "python3.11 is Amazon Linux 2"
    assert runtime_for("3.12").platform("arm64") == "aarch64-manylinux_2_34"
    with pytest.raises(ValueError, match=r"python3\.9"):
        runtime_for("3.9")


def test_stepstone_lock_writes_checks_and_says_what_it_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = write_workflow(tmp_path, 'stepstone.packages("six")')
    sys.modules.pop("flow", None)
    runner = CliRunner()
    checked = runner.invoke(main, ["lock", "--check", str(file)])
    assert checked.exit_code == 1 and "its lock is missing" in checked.output
    sys.modules.pop("flow", None)
    written = runner.invoke(main, ["lock", str(file)])
    assert written.exit_code == 0, written.output
    assert "flow.lock written" in written.output and "six " in written.output
    sys.modules.pop("flow", None)
    assert runner.invoke(main, ["lock", "--check", str(file)]).exit_code == 0
    none = write_workflow(tmp_path, "")
    sys.modules.pop("flow", None)
    result = runner.invoke(main, ["lock", str(none)])
    assert result.exit_code == 0 and "declares no packages" in result.output
    assert os.path.exists(tmp_path / "flow.lock"), "the earlier lock is left as it was"


def test_the_example_locks_are_up_to_date() -> None:
    """Committed locks that no longer match what the examples declare (or what is installed
    here) would deploy other versions than the ones tested: refresh with stepstone lock."""
    result = CliRunner().invoke(main, ["lock", "--check", "examples/ml_training.py", "examples/hpo_fanout.py"])
    assert result.exit_code == 0, result.output


def test_a_declared_file_is_read_with_its_runner_requirements(tmp_path: Path) -> None:
    declared = Declared(tmp_path / "x.py", (*RUNNER_REQUIREMENTS, "pandas"), (("train", ("torch",)),))
    assert declared.everything == (*RUNNER_REQUIREMENTS, "pandas", "torch")
    assert not Declared(tmp_path / "y.py", RUNNER_REQUIREMENTS, ()).declares
