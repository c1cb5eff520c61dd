"""The local target's view of a run's data: the compiled paths, evaluated on a local state.

A local run keeps what the state machine's JSON state keeps: the parameters at the root,
and under ``vars`` one entry per value (an envelope, a list of envelopes, a plain value).
Every read goes through what the emitter writes into the ASL (``ValuePaths``: argument
templates, Choice rules, Pass contents, ItemsPaths) evaluated by
``compiler.asl.interpret``, so a workflow reads its data locally exactly as it will in
Step Functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.asl.interpret import holds, read, render
from compiler.asl.values import PassContent, ValuePaths
from compiler.errors import PathError
from compiler.ir import BindingKind, BindingRef, Condition, Value, Workflow
from compiler.protocol import MAP_PATH_KEY, VARS_KEY, Argument, decode_argument
from lambdas.envelope import read_envelope
from lambdas.store import ArtifactStore

__all__ = ["RunDataError", "StateView"]

JSON = Any
RunDataError = PathError  # a path Step Functions could not read: States.Runtime


@dataclass
class StateView:
    """One scope of a local run, as the compiled state machine would hold it: its parameters,
    its values, and where it is (a fan-out item's map_path)."""

    workflow: Workflow
    run: str
    params: Mapping[str, JSON]
    store: ArtifactStore
    map_path: str | None = None
    values: dict[str, JSON] = field(default_factory=dict)
    catch_names: frozenset[str] = frozenset()  # what the excepts around this point catch
    paths: ValuePaths | None = None

    def __post_init__(self) -> None:
        if self.paths is None:
            wf = self.workflow
            self.paths = ValuePaths(wf.name, wf.bindings, wf.params.names)

    @property
    def _paths(self) -> ValuePaths:
        assert self.paths is not None
        return self.paths

    def child(self, map_path: str, values: dict[str, JSON]) -> StateView:
        return StateView(self.workflow, self.run, self.params, self.store, map_path, values, self.catch_names,
                     self.paths)

    def inside_try(self, names: frozenset[str]) -> StateView:
        return StateView(self.workflow, self.run, self.params, self.store, self.map_path, self.values,
                     self.catch_names | names, self.paths)

    @property
    def in_map(self) -> bool:
        return self.map_path is not None

    def state(self) -> dict[str, JSON]:
        """The JSON state the compiled machine would hold here."""
        state: dict[str, JSON] = {**self.params, VARS_KEY: dict(self.values)}
        if self.map_path is not None:
            state[MAP_PATH_KEY] = self.map_path
        return state

    def context(self) -> dict[str, JSON]:
        return {"Execution": {"Id": f"local:{self.workflow.name}:{self.run}", "Name": self.run}}

    def render(self, template: JSON) -> JSON:
        return render(template, self.state(), self.context())

    def get(self, key: str) -> JSON:
        return read(self._paths.var_path(key), self.state(), self.context())

    # --- what steps, conditions and Pass states read ----------------------------------------

    def argument(self, value: Value) -> Argument:
        """The argument the compiled Task sends for ``value``: its template, filled in here."""
        return decode_argument(self.render(self._paths.argument(value, self.in_map).encode()))

    def plain(self, value: Value) -> JSON:
        """A value as the state holds it (a nested run's input field, say)."""
        return self.render(self._paths.plain(value, self.in_map, "value"))["value"]

    def deferred(self, key: str) -> JSON:
        """A Batch step's output, where the compiled states look for it."""
        return self.render(self._paths.deferred_envelope(self.workflow.bindings[key], self.in_map))

    def pass_output(self, content: PassContent) -> JSON:
        """What a Pass state with this content produces."""
        if content.has_result:
            return content.result
        if content.input_path is not None:
            return read(content.input_path, self.state(), self.context())
        return self.render(content.parameters)

    def items(self, value: Value, distributed: bool) -> list[JSON]:
        """The list a fan-out goes over: its ItemsPath, or the ItemReader's object in the store."""
        if distributed and isinstance(value, BindingRef) and \
                self.workflow.bindings[value.key].kind is BindingKind.RESULT:
            listed = read_envelope(self.get(value.key), self.store)
        else:
            listed = read(self._paths.items_path(value), self.state(), self.context())
        if not isinstance(listed, list):
            raise PathError(f"a fan-out needs a list, got {type(listed).__name__}")
        return listed

    def holds(self, condition: Condition) -> bool:
        """Whether the compiled Choice rule for ``condition`` matches."""
        return holds(self._paths.rule(condition), self.state(), self.context())
