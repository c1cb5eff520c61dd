"""pytest fixtures for workflow tests (a pytest plugin, registered as ``stepstone``).

- ``moto_sfn``: an in-process AWS (moto) that runs compiled workflows with their real
  steps: ``moto_sfn.run_workflow(my_workflow, {"param": 1})`` returns the execution's
  status, output and the states it went through. No AWS account, no Docker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .moto_sfn import MotoStepFunctions


@pytest.fixture()
def moto_sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStepFunctions]:
    """A moto AWS whose Step Functions runs compiled workflows in this process."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    with MotoStepFunctions() as moto:
        yield moto
