"""A distributed fan-out's items are child executions on AWS, each with its own
``$$.Execution.Name``: their states must read the run's name and id from what the Map
hands them (``stepstone_run``), or their artifacts and lineage would land under the child's
name instead of the run's. Checked on every distributed Map the compiler makes for the
load-test workflow and for generated workflows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compiler import compile_workflow
from compiler.deployment.profile import LOCALSTACK_PROFILE
from compiler.protocol import RUN_KEY
from tests.e2e.load_flows import load_map
from tests.support.generate import compiled_workflows


def maps(states: dict[str, Any], distributed_above: bool = False) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every Map state, with whether a distributed Map encloses it."""
    for state in states.values():
        for branch in state.get("Branches", []):
            yield from maps(branch["States"], distributed_above)
        if state.get("Type") == "Map":
            yield state, distributed_above
            distributed = state["ItemProcessor"].get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
            yield from maps(state["ItemProcessor"]["States"], distributed_above or distributed)


def check(definition: dict[str, Any]) -> int:
    found = 0
    for state, enclosed in maps(definition["States"]):
        distributed = state["ItemProcessor"].get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
        selector = state["ItemSelector"]
        if distributed:
            found += 1
            assert "$$.Execution" not in json.dumps(state["ItemProcessor"]), "an item reads the child's context"
            expected = ({"name.$": f"$.{RUN_KEY}.name", "id.$": f"$.{RUN_KEY}.id"} if enclosed else
                        {"name.$": "$$.Execution.Name", "id.$": "$$.Execution.Id"})
            assert selector[RUN_KEY] == expected
            prefix = state["ResultWriter"]["Parameters"]["Prefix.$"]
            assert ("$$.Execution.Name" in prefix) != enclosed
        elif enclosed:
            assert selector[f"{RUN_KEY}.$"] == f"$.{RUN_KEY}", "an inline Map in an item forwards the run"
        else:
            assert RUN_KEY not in json.dumps(selector), "nothing changes outside distributed fan-outs"
    return found


def test_a_distributed_fan_out_hands_its_items_the_run() -> None:
    definition = compile_workflow(load_map).definition
    assert check(definition) == 1
    (task,) = [s for s in next(iter(maps(definition["States"])))[0]["ItemProcessor"]["States"].values()
               if s["Type"] == "Task"]
    assert task["Parameters"]["Payload"]["run.$"] == f"$.{RUN_KEY}.name"
    assert task["Parameters"]["Payload"]["execution.$"] == f"$.{RUN_KEY}.id"


def test_generated_workflows_never_read_the_child_context_in_a_distributed_item(tmp_path: Path) -> None:
    distributed = 0
    for _, definition, compiled in compiled_workflows(tmp_path, range(40), lambda seed: 12 + seed % 20, "dist"):
        distributed += check(compiled.definition)
        distributed += check(compile_workflow(definition, profile=LOCALSTACK_PROFILE).definition)
    assert distributed > 0, "the generated workflows should have distributed fan-outs"
