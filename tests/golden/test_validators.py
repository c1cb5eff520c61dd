"""Every definition the compiler makes passes both ASL validators: statelint and asl-validator.

Checked on every example workflow and on generated workflows (random data flow with
conditions, merges, fan-outs, failure paths and Batch steps; ``tests/support/generate.py``).
statelint (PyPI) runs in-process; asl-validator (npm, pinned in package.json) runs once for
all definitions through ``tests/support/validate_asl.js``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from statelint.linter import Linter

from compiler import compile_workflow
from compiler.deployment.profile import LOCALSTACK_PROFILE
from compiler.loader import load_module, workflows_in
from tests.support.asl import asl_validator, asl_validator_problems, statelint_problems
from tests.support.generate import compiled_workflows, workflow_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
GENERATED = 60

pytestmark = pytest.mark.validators


def _definitions(tmp: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in EXAMPLES:
        for workflow in workflows_in(load_module(path)):
            yield f"{path.stem}.{workflow.name}", compile_workflow(workflow).definition
            yield (f"{path.stem}.{workflow.name}.localstack",
                   compile_workflow(workflow, profile=LOCALSTACK_PROFILE).definition)
    folder = tmp / "generated"
    folder.mkdir()
    for seed, _, compiled in compiled_workflows(folder, range(GENERATED), lambda seed: 4 + seed % 35):
        yield f"generated_{seed}", compiled.definition


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    found = dict(_definitions(tmp_path_factory.mktemp("asl")))
    generated = [name for name in found if name.startswith("generated_")]
    assert len(generated) >= GENERATED * 0.9, "most generated workflows should compile"
    return found


def test_statelint_accepts_every_definition(definitions: dict[str, dict[str, Any]]) -> None:
    failures = {name: problems for name, d in definitions.items() if (problems := statelint_problems(d))}
    assert not failures, json.dumps(failures, indent=2)[:3000]


def test_asl_validator_accepts_every_definition(definitions: dict[str, dict[str, Any]],
                                                tmp_path: Path) -> None:
    invalid = asl_validator_problems(definitions, tmp_path)
    assert not invalid, json.dumps(invalid, indent=2)[:3000]


def test_validators_reject_a_broken_definition(tmp_path: Path) -> None:
    """The validators are really checking: a Next to a missing state fails both."""
    broken = {"StartAt": "a", "States": {"a": {"Type": "Pass", "Next": "missing"}}}
    assert Linter.validate(broken)
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    (result,) = asl_validator([path])
    assert not result["valid"]


def test_batched_validation_agrees_with_plain_validation(definitions: dict[str, dict[str, Any]],
                                                         tmp_path: Path) -> None:
    """validate_asl.js shares one compiled schema across files; the uncached path must agree."""
    files = []
    for name, definition in list(definitions.items())[:8]:
        path = tmp_path / f"{name}.asl.json"
        path.write_text(json.dumps(definition), encoding="utf-8")
        files.append(path)
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps({"StartAt": "a", "States": {"a": {"Type": "Pass"}}}), encoding="utf-8")
    files.append(broken)
    assert asl_validator(files) == asl_validator(files, "--no-cache")


def test_generated_sources_are_deterministic() -> None:
    assert workflow_source(7, 20) == workflow_source(7, 20)
    assert workflow_source(7, 20) != workflow_source(8, 20)


