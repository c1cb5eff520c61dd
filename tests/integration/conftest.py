"""One moto Step Functions for a whole test module (``moto``), for the modules that run many
workflows in it; ``moto_sfn``, the fixture users get, makes one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stepstone.testing.fixtures import MOTO_ENVIRONMENT
from stepstone.testing.moto_sfn import MotoStepFunctions


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoStepFunctions]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in MOTO_ENVIRONMENT:
            patch.setenv(name, value)
        with MotoStepFunctions() as harness:
            yield harness
