"""Generated workflows (hypothesis) compiled, validated and executed by a real ASL
interpreter (moto's), with their real steps and injected faults, against plain Python.

Each case is a random program (tests/support/programs.py): a DAG of step calls with
parallel branches, if/else, try/except (the error handed to a step too), fan-outs,
``after=``, retry policies, and faults (STEPSTONE_FAULTS: transient ones a retry gets
through or not, permanent ones an except catches or the run dies of). It must

1. compile, and pass statelint (here) and asl-validator (all cases at once, after);
2. run in moto's Step Functions as the same body run as plain Python says (the oracle):
   the same status, error and output; each step as many attempts as its faults and
   retry policy give (every step exactly once when it has none); no state entered before
   a state it waits for exited (from the execution history);
3. run on the local target (stepstone.local) with the same result and attempts.

The number of cases: STEPSTONE_GENERATED_CASES (default 200); hypothesis shrinks a
failure to a small program and prints it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from compiler import compile_workflow
from compiler.loader import load_workflows
from compiler.protocol import attempt_prefix, run_prefix
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.local.options import ExecutorOptions
from stepstone.testing.moto_sfn import MotoStepFunctions
from tests.support.asl import asl_validator_problems, statelint_problems
from tests.support.checks import attempts_by_step, check_attempts, check_order
from tests.support.programs import Oracle, Program, injected_faults, programs
from tests.support.reliability import count

CASES = int(os.environ.get("STEPSTONE_GENERATED_CASES", "200"))
COMPILED: dict[str, dict[str, Any]] = {}  # every generated definition, for asl-validator


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


def load(program: Program, folder: Path) -> tuple[Any, Any]:
    path = folder / f"{program.name}.py"
    path.write_text(program.source, encoding="utf-8")
    (definition,) = load_workflows(str(path))
    return definition, sys.modules[program.name]


def describe(program: Program) -> str:
    return f"--- {program.name} params={program.params} faults={program.faults!r}\n{program.source}"


# moto 5.2.5: when a run fails, a Parallel branch still running in moto's own worker thread
# raises "Could not set NextState value when in state ProgramStopped" there; the run's
# result is right (checked below), the thread's noise is moto's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@settings(max_examples=CASES, deadline=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(program=programs())
def test_generated_workflows_run_in_moto_and_locally_as_plain_python_says(
        program: Program, moto: MotoStepFunctions, folder: Path) -> None:
    source = describe(program)
    definition, module = load(program, folder)
    compiled = compile_workflow(definition)
    problems = statelint_problems(compiled.definition)
    assert not problems, f"{problems}\n{source}"
    COMPILED[program.name] = compiled.definition

    oracle = Oracle(program, module)
    error, output = oracle.run()
    params = definition.validate_params(program.params)
    with injected_faults(program.faults):
        run = moto.run_workflow(definition, params)
        local = LocalRun(definition, LocalStore(folder / "store"), run_id=program.name,
                         options=ExecutorOptions(workers=4, retry_delay_scale=0.0, echo_output=False)
                         ).run(params).record

    # moto's interpreter: status, error, output as plain Python says
    if error is None:
        assert run.status == "SUCCEEDED", f"{run.error}: {run.cause}\n{source}"
        assert run.output["value"] == output, source
    else:
        assert run.status == "FAILED" and run.error == error, f"{run.status} {run.error} {run.cause}\n{source}"
    ran = attempts_by_step((c["event"]["state"], c["event"].get("map_path")) for c in run.calls)
    states = {c.state for c in program.calls}
    # every attempt, failed ones too, left its own lineage record: attempts are kept apart, none overwritten
    stored = set(moto.keys(run_prefix(program.name, run.execution_arn.rsplit(":", 1)[-1])))
    for call in run.calls:
        event = call["event"]
        lineage = attempt_prefix(program.name, event["run"], event["state"], event["attempt"],
                                 event.get("map_path")) + "lineage.json"
        assert lineage in stored, f"{lineage} missing\n{source}"
        if "result" in call:  # a finished step's output stays, also when the run fails later
            assert json.loads(moto.read(lineage))["status"] == "succeeded", source
    check_attempts(ran, oracle.expected, finished=error is None, states=states, source=source)
    orderings = check_order(run.history, oracle.expected, source=source)

    # the local target agrees with the interpreter
    assert local.status == ("succeeded" if error is None else "failed"), f"{local.error}: {local.cause}\n{source}"
    if error is None:
        assert local.output == run.output, source
        local_attempts = attempts_by_step((s.state, s.map_path) for s in local.steps.values()
                                          for _ in range(s.attempts))
        check_attempts(local_attempts, oracle.expected, finished=True, states=states, source=source)
    else:
        assert local.error == error, f"local: {local.error}, moto: {error}\n{source}"

    injected = sum(1 for c in run.calls if "injected by STEPSTONE_FAULTS" in str(c.get("error", "")))
    count("generated workflows, moto: run in moto's interpreter and locally, as plain Python says")
    count("generated workflows, moto: runs that failed, as plain Python says", int(error is not None))
    count("generated workflows, moto: step attempts in moto", sum(ran.values()))
    count("generated workflows, moto: faults injected in moto (failed attempts)", injected)
    count("generated workflows, moto: orderings checked (entered after what it waits for exited)", orderings)


def test_asl_validator_accepts_every_generated_definition(tmp_path: Path) -> None:
    if not COMPILED:
        pytest.skip("the generated workflows did not run (run this module whole)")
    invalid = asl_validator_problems(COMPILED, tmp_path)
    assert not invalid, invalid[:3]
    count("generated workflows, moto: definitions accepted by asl-validator", len(COMPILED))
