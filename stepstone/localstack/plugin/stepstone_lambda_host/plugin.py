"""The plux plugin LocalStack looks up by the name in ``LAMBDA_RUNTIME_EXECUTOR``."""

from __future__ import annotations

import contextlib
from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin

NAME = "stepstone"  # the entry point's name in pyproject.toml


class HostExecutorPlugin(RuntimeExecutorPlugin):  # type: ignore[misc]
    name = NAME

    def load(self, *args: Any, **kwargs: Any) -> type:
        # Imported here, as LocalStack's own Docker plugin does, so that listing the plugins
        # does not import the Lambda service. plux drops a plugin whose import fails without
        # a word: keep this module's imports minimal.
        from .executor import HostRuntimeExecutor

        # fixes to LocalStack's Step Functions (stepfunctions.py): they never stop the executor loading
        with contextlib.suppress(Exception):
            from .stepfunctions import apply

            apply()
        return HostRuntimeExecutor
