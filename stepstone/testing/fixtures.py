"""pytest fixtures for workflow tests (a pytest plugin, registered as ``stepstone``).

- ``moto_sfn``: an in-process AWS (moto) that runs compiled workflows with their real
  steps: ``moto_sfn.run_workflow(my_workflow, {"param": 1})`` returns the execution's
  status, output and the states it went through. No AWS account, no Docker.
- ``localstack`` (session-scoped): LocalStack with stepstone's Lambda executor, started
  once for the session (installed the first time; the one already running is reused and
  left running), stopped at the end. ``localstack.run(my_workflow, {...})`` deploys and
  runs the workflow there, steps as real Lambda functions, and returns the run's record.
  When LocalStack cannot start, its tests are skipped with the reason; set
  ``STEPSTONE_REQUIRE_LOCALSTACK=1`` (CI does) to fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .moto_sfn import MotoStepFunctions

if TYPE_CHECKING:
    from .localstack import LocalStackSession


# what boto3 needs to make clients of moto's AWS: credentials moto accepts, and a region
MOTO_ENVIRONMENT = (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                    ("AWS_DEFAULT_REGION", "us-east-1"))


@pytest.fixture()
def moto_sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStepFunctions]:
    """A moto AWS whose Step Functions runs compiled workflows in this process."""
    for name, value in MOTO_ENVIRONMENT:
        monkeypatch.setenv(name, value)
    with MotoStepFunctions() as moto:
        yield moto


@pytest.fixture(scope="session")
def localstack(request: pytest.FixtureRequest) -> Iterator[LocalStackSession]:
    """LocalStack for the whole test session (see the module docstring)."""
    from ..localstack import LocalStack, LocalStackError, clients
    from .localstack import LocalStackSession

    home = os.environ.get("STEPSTONE_LOCALSTACK_HOME") or Path(request.config.rootpath) / ".stepstone" / "localstack"
    harness = LocalStack(home)
    started_here = False
    if harness.health() is None:
        try:
            harness.start()
        except LocalStackError as exc:
            if os.environ.get("STEPSTONE_REQUIRE_LOCALSTACK") == "1":
                pytest.fail(f"LocalStack did not start: {exc}")
            pytest.skip(f"LocalStack cannot start on this machine: {exc}")
        started_here = True
        problem = harness.executor_problem()
        if problem:
            harness.stop()
            pytest.fail(f"LocalStack started without stepstone's Lambda executor: {problem}")
    try:
        yield LocalStackSession(harness, clients(harness.host))
    finally:
        if started_here:
            harness.stop()
