"""The two ASL validators as the tests call them: statelint (PyPI, in this process) and
asl-validator (npm, pinned in package.json; one node process for many definitions through
``tests/support/validate_asl.js``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from statelint.linter import Linter

__all__ = ["asl_validator", "asl_validator_problems", "body_start", "statelint_problems"]

ROOT = Path(__file__).resolve().parents[2]
VALIDATE = ROOT / "tests" / "support" / "validate_asl.js"

# statelint 3.1.0's schema predates the Distributed Map's ReaderConfig.InputType, which AWS
# documents as required for s3:getObject JSON item readers:
# https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html
STATELINT_OUTDATED = ('Field "InputType" not allowed in',)


def _input_state(states: Mapping[str, Any], state: Mapping[str, Any]) -> bool:
    """One of the first states: a Pass that merges the defaults, a Choice whose rules all refuse the input."""
    if state["Type"] == "Pass":
        return "JsonMerge" in json.dumps(state.get("Parameters"))
    return state["Type"] == "Choice" and all(states[rule["Next"]].get("Error") == "stepstone.InvalidParameter"
                                             for rule in state["Choices"])


def body_start(definition: Mapping[str, Any]) -> str:
    """The first state of the workflow body: past the parameter defaults and the input checks."""
    states, name = definition["States"], definition["StartAt"]
    while _input_state(states, states[name]):
        name = states[name].get("Next") or states[name]["Default"]
    return str(name)


def statelint_problems(definition: dict[str, Any]) -> list[str]:
    problems = Linter.validate(definition)
    return [p for p in problems if not any(known in p for known in STATELINT_OUTDATED)]


def asl_validator(files: list[Path], *flags: str) -> list[dict[str, Any]]:
    """asl-validator's verdict on each file, in order: ``{"file", "valid", "errors"}``."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "asl-validator").exists():
        pytest.fail("asl-validator is not installed: run scripts/bootstrap.sh (npm ci)")
    result = subprocess.run([node, str(VALIDATE), *flags, *map(str, files)], capture_output=True, text=True,
                            check=False)
    assert result.returncode in (0, 1), result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def asl_validator_problems(definitions: Mapping[str, dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """The definitions asl-validator rejects (all checked in one node process)."""
    files = []
    for name, definition in definitions.items():
        path = folder / f"{name}.asl.json"
        path.write_text(json.dumps(definition), encoding="utf-8")
        files.append(path)
    results = asl_validator(files)
    assert len(results) == len(files)
    return [r for r in results if not r["valid"]]
