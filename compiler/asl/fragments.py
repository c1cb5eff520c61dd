"""What the emitter builds a machine from: fragments of states wired by their open exits (a
Task's ``Next``, a Choice's rules and ``Default``), and the scope a fragment is made in (its
machine, what the excepts around it catch, what every state of it carries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..ir import Value
from ..limits import Size
from ..seriesparallel import Leaf, SPNode
from .states import Catcher, ChoiceState, PassState, State, StateMachine
from .values import PassContent

__all__ = ["CatchContext", "Exit", "Fragment", "Scope", "fill_pass", "leaves", "wire"]


@dataclass
class Exit:
    state: State
    slot: Literal["next", "default"] | int


@dataclass
class Fragment:
    entry: str
    exits: list[Exit] = field(default_factory=list)


@dataclass
class CatchContext:
    catchers: list[Catcher]
    handlers: list[tuple[tuple[str, ...], str | None, str]]  # (errors, error key, entry state)


@dataclass
class Scope:
    machine: StateMachine
    kind: Literal["top", "branch", "iteration"]
    in_map: bool
    base: Size  # what every state of this machine carries besides its values: the parameters
    result: Value | None = None
    catches: list[CatchContext] = field(default_factory=list)
    outer_names: frozenset[str] = frozenset()  # what excepts around the Parallel or Map this is in catch

    def catchers(self) -> list[Catcher]:
        out: list[Catcher] = []
        for context in reversed(self.catches):
            out.extend(context.catchers)
        return out

    def caught_names(self) -> frozenset[str]:
        """Error names every except around this point catches, across Parallel and Map boundaries:
        a step inside reports a subclass under them, so the failure reaches the right Catch."""
        names = {n for context in self.catches for c in context.catchers for n in c.errors}
        return self.outer_names | names


def fill_pass(state: PassState, content: PassContent) -> None:
    if content.has_result:
        state.result = content.result
    state.input_path = content.input_path
    state.parameters = content.parameters


def leaves(tree: SPNode) -> list[int]:
    if isinstance(tree, Leaf):
        return [tree.index]
    return [i for part in tree.parts for i in leaves(part)]


def wire(exits: list[Exit], target: str) -> None:
    for ex in exits:
        state = ex.state
        if ex.slot == "next":
            state.next = target
        elif ex.slot == "default":
            assert isinstance(state, ChoiceState)
            state.default = target
        else:
            assert isinstance(state, ChoiceState)
            rule, _ = state.choices[ex.slot]
            state.choices[ex.slot] = (rule, target)
