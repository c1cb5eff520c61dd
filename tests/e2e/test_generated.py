"""Generated workflows (hypothesis) on LocalStack: each deployed and run with its steps as
real Lambda functions (the step runner in stepstone's Lambda executor), faults injected
through the functions' environment (STEPSTONE_FAULTS), Retry waits real.

The same programs and oracle as tests/integration/test_generated.py (moto): the run ends
as the body run as plain Python says; each step's attempts, read from the lineage records
the step runner left in LocalStack's S3, are the oracle's; no state is entered (in
LocalStack's execution history) before a state it waits for exited; and the local target
gives the same output. STEPSTONE_GENERATED_LOCALSTACK_CASES sets how many (default 24).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from compiler.loader import load_workflows
from compiler.protocol import run_prefix
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.local.options import ExecutorOptions
from stepstone.localstack.deploy import Deployed, Deployer
from stepstone.records import new_run_id
from stepstone.testing.localstack import LocalStackSession
from tests.support.checks import attempts_by_step, check_attempts, check_order
from tests.support.programs import Oracle, Program, injected_faults, programs
from tests.support.reliability import count

pytestmark = pytest.mark.localstack

CASES = int(os.environ.get("STEPSTONE_GENERATED_LOCALSTACK_CASES", "24"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated-localstack")


def lineage_attempts(keys: list[str], prefix: str) -> list[tuple[str, str | None]]:
    """(state, map_path) of every attempt whose lineage record is under ``prefix``
    (``[<map_path>/]<state>/attempt-<n>/lineage.json``)."""
    found = []
    for key in keys:
        if not key.endswith("/lineage.json"):
            continue
        parts = key[len(prefix):].split("/")
        state, middle = parts[-3], parts[:-3]
        found.append((state, "/".join(middle) or None))
    return found


@contextlib.contextmanager
def deployed(localstack: LocalStackSession, definition: Any, faults: str) -> Iterator[Deployed]:
    """The workflow on LocalStack with ``faults`` in its functions' environment; removed after
    (its functions' workers stop with them)."""
    result = Deployer(localstack.aws, faults=faults or None).deploy(definition)
    try:
        yield result
    finally:
        for function in set(result.functions.values()):
            with contextlib.suppress(Exception):
                localstack.aws.lambda_.delete_function(FunctionName=function)
        with contextlib.suppress(Exception):
            localstack.aws.sfn.delete_state_machine(stateMachineArn=result.state_machine)


@settings(max_examples=CASES, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(program=programs(max_statements=7))
def test_generated_workflows_on_localstack_run_as_plain_python_says(
        program: Program, localstack: LocalStackSession, folder: Path) -> None:
    source = f"--- {program.name} params={program.params} faults={program.faults!r}\n{program.source}"
    home = folder / program.name
    home.mkdir()
    path = home / f"{program.name}.py"
    path.write_text(program.source, encoding="utf-8")
    (definition,) = load_workflows(str(path))
    module = sys.modules[program.name]
    oracle = Oracle(program, module)
    error, output = oracle.run()
    params = definition.validate_params(program.params)

    with deployed(localstack, definition, program.faults) as on_localstack:
        run_id = new_run_id()
        arn = localstack.target.start(on_localstack.state_machine, run_id, params)
        record = localstack.wait(arn, timeout=300)
        history = localstack.history(arn)
    prefix = run_prefix(program.name, run_id)
    keys = localstack.keys(prefix)

    if error is None:
        assert record.status == "succeeded", f"{record.error}: {record.cause}\n{source}"
    else:
        assert record.status == "failed" and record.error == error, f"{record.status} {record.error}\n{source}"
    ran = attempts_by_step(lineage_attempts(keys, prefix))
    check_attempts(ran, oracle.expected, finished=error is None, states={c.state for c in program.calls},
                   source=source)
    orderings = check_order(history, oracle.expected, source=source)

    with injected_faults(program.faults):
        local = LocalRun(definition, LocalStore(home / "store"), run_id=run_id,
                         options=ExecutorOptions(workers=4, retry_delay_scale=0.0, echo_output=False)
                         ).run(params).record
    assert local.status == record.status, source
    if error is None:
        assert local.output == record.output, f"local {local.output}\nLocalStack {record.output}\n{source}"
        assert local.output["value"] == output, source

    count("generated workflows, LocalStack: run as plain Python says, outputs equal the local target's")
    count("generated workflows, LocalStack: Lambda invocations (step attempts)", sum(ran.values()))
    count("generated workflows, LocalStack: orderings checked in the execution history", orderings)
