"""The intermediate representation: a workflow as frozen, typed objects.

The parser (``compiler/parse``) builds it from the workflow's syntax tree; the checks read
it; the emitters (ASL, Mermaid, cost) render it. Nothing changes it after it is built.

A workflow body is a :class:`Block`: a list of units (step calls, conditions, fan-outs,
failure handlers, returns) and the dependencies between them. Dependencies come from data
flow (a unit uses a value another unit produced) and from ``after=``; a unit that can end
the run (it holds a ``return`` or ``raise``) also orders everything around it, as it does
in Python. Statement order alone never orders two units.

Values are named by *bindings*: each assignment ``x = step(...)`` makes one, and every use
of ``x`` refers to it. A binding says what kind of value it holds, which decides how the
value travels in the state machine's JSON:

- ``result``: a step's (or nested workflow's) output envelope: ``{"fields", "value", "ref"}``.
- ``results``: the list of per-item envelopes a fan-out returns (inline Map).
- ``raw``: plain JSON: a workflow parameter, a loop item, an error, an approval.
- ``deferred``: a Batch job's output, which Step Functions never sees: it lives in S3 at a
  key made from the run and the state's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeAlias

from .dsl.errors import Location
from .dsl.options import Compute, Retry
from .dsl.schedules import Schedule
from .dsl.secrets import SecretRef
from .dsl.triggers import Trigger
from .protocol import StoreMode

__all__ = [
    "And",
    "Approve",
    "Binding",
    "BindingKind",
    "BindingRef",
    "Block",
    "CallWorkflow",
    "Compare",
    "Condition",
    "Copy",
    "FanOut",
    "Handler",
    "If",
    "IsNull",
    "LiteralValue",
    "Node",
    "Not",
    "Or",
    "ParamRef",
    "Params",
    "Raise",
    "Return",
    "StepCall",
    "StepInfo",
    "Truthy",
    "Try",
    "Value",
    "Workflow",
]

PathPart: TypeAlias = str | int


class BindingKind(StrEnum):
    RESULT = "result"
    RESULTS = "results"
    RAW = "raw"
    DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class Binding:
    """One value a workflow body names (an assignment, a loop item, a caught error)."""

    key: str  # where it lives: $.vars.<key>
    var: str  # the user's name for it
    kind: BindingKind
    annotation: Any  # the Python type, for field types and argument checks
    location: Location
    state: str | None = None  # the state that produces it (a Batch step's, for deferred keys)
    manifest: bool = False  # a distributed Map's result: a reference to Step Functions' result manifest


@dataclass(frozen=True, slots=True)
class LiteralValue:
    value: Any  # JSON


@dataclass(frozen=True, slots=True)
class ParamRef:
    """A workflow parameter, or a field inside one. ``path`` starts at the input's root."""

    path: tuple[PathPart, ...]
    annotation: Any
    whole_model: bool = False  # the single pydantic-model parameter itself: every field
    # a value only a calling workflow passes (a DataFrame, a model): the input holds the
    # caller's step envelope there, so it is read as a step result is (``BindingKind.RESULT``)
    stored: bool = False


@dataclass(frozen=True, slots=True)
class BindingRef:
    key: str
    path: tuple[PathPart, ...] = ()
    annotation: Any = None


Value: TypeAlias = LiteralValue | ParamRef | BindingRef


# --- conditions --------------------------------------------------------------------------

ChoiceKind: TypeAlias = Literal["numeric", "string", "boolean", "timestamp"]
CompareOp: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class Compare:
    op: CompareOp
    left: Value  # never a literal: the parser puts the variable on the left
    right: Value
    kind: ChoiceKind


@dataclass(frozen=True, slots=True)
class IsNull:
    value: Value
    is_null: bool


@dataclass(frozen=True, slots=True)
class Truthy:
    """``if x:`` where the annotations do not say what ``x`` is (a field of a plain ``dict``
    result, ``Any``): Python's truthiness of a scalar. None, False, 0 and "" are false, a
    missing field too; any other value is true."""

    value: Value


@dataclass(frozen=True, slots=True)
class Not:
    inner: Condition


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Condition, ...]


Condition: TypeAlias = Compare | IsNull | Truthy | Not | And | Or


# --- units -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepInfo:
    """What the compiler needs of a ``@step``: enough for ASL and for cdk/ to deploy it."""

    name: str
    ref: str  # module:qualname, how the step runner imports it
    compute: Compute
    retry: tuple[Retry, ...]
    timeout: int | None
    heartbeat: int | None
    cache: bool
    location: Location
    secrets: tuple[SecretRef, ...] = ()  # declared with @step(secrets=[...]); names only, never values
    packages: tuple[str, ...] = ()  # @step(packages=[...]): installed for this step beyond its file's

    @property
    def is_batch(self) -> bool:
        from .dsl.options import Batch

        return isinstance(self.compute, Batch)


@dataclass(frozen=True, slots=True)
class StepCall:
    name: str  # the state's name
    step: StepInfo
    args: tuple[tuple[str, Value], ...]
    binding: str | None  # key of the result
    location: Location


@dataclass(frozen=True, slots=True)
class CallWorkflow:
    name: str
    workflow: str  # the called workflow's name
    ref: str  # module:qualname of the called workflow, to run it locally
    params: tuple[tuple[str, Value], ...]  # its input, field by field
    binding: str | None
    location: Location


@dataclass(frozen=True, slots=True)
class Approve:
    name: str
    message: str
    timeout: int
    binding: str | None
    location: Location


@dataclass(frozen=True, slots=True)
class Copy:
    """Put a value where a variable merged from several branches lives (a Pass state)."""

    name: str
    value: Value
    binding: str
    location: Location


@dataclass(frozen=True, slots=True)
class Branch:
    condition: Condition
    body: Block
    text: str  # the condition as written, for names and pictures


@dataclass(frozen=True, slots=True)
class If:
    name: str
    branches: tuple[Branch, ...]
    orelse: Block | None
    location: Location


@dataclass(frozen=True, slots=True)
class FanOut:
    """Run ``body`` once per item of ``items``; collect what each iteration returns."""

    name: str
    items: Value
    item: str  # binding key of the loop variable
    body: Block
    result: Value | None  # what one iteration returns, None when nothing collects it
    binding: str | None
    mode: Literal["inline", "distributed"]
    max_items: int | None
    max_concurrency: int
    location: Location
    why: str  # why this mode, for --explain


@dataclass(frozen=True, slots=True)
class Handler:
    errors: tuple[str, ...]  # ErrorEquals
    binding: str | None  # key of the caught error, when written ``as e``
    body: Block
    location: Location


@dataclass(frozen=True, slots=True)
class Try:
    name: str
    body: Block
    handlers: tuple[Handler, ...]
    location: Location


@dataclass(frozen=True, slots=True)
class Return:
    name: str
    value: Value | None
    location: Location


@dataclass(frozen=True, slots=True)
class Raise:
    name: str
    error: str
    cause: str
    location: Location
    rethrow: str | None = None  # binding key of a caught error re-raised by a bare ``raise``


Node: TypeAlias = StepCall | CallWorkflow | Approve | Copy | If | FanOut | Try | Return | Raise


@dataclass(frozen=True, slots=True)
class Unit:
    """A node in a block with what it reads and writes (binding keys)."""

    node: Node
    reads: frozenset[str]
    writes: frozenset[str]
    ends: bool  # it can end the path (holds a return or raise that leaves it)


@dataclass(frozen=True, slots=True)
class Block:
    units: tuple[Unit, ...]
    deps: tuple[frozenset[int], ...]  # for each unit, the indices of units it must follow
    returns: bool = False  # every path through the block ends (return/raise)

    @property
    def edges(self) -> list[tuple[int, int]]:
        return [(i, j) for j, before in enumerate(self.deps) for i in sorted(before)]


@dataclass(frozen=True, slots=True)
class Params:
    """The workflow's typed parameters: the run's input is a JSON object of them."""

    names: tuple[str, ...]  # top-level input fields
    annotations: Mapping[str, Any]
    model_param: str | None  # set when the workflow takes one pydantic model
    model: Any  # the pydantic model a run's input must satisfy
    max_bytes: int
    defaults: Mapping[str, Any] = field(default_factory=dict)  # each default, as JSON: a run without it gets it


@dataclass(frozen=True, slots=True)
class Workflow:
    name: str
    ref: str  # module:qualname
    location: Location
    type: Literal["standard", "express"]
    timeout: int | None
    params: Params
    schedules: tuple[Schedule, ...]
    triggers: tuple[Trigger, ...]
    body: Block
    bindings: Mapping[str, Binding]
    steps: Mapping[str, StepInfo]
    calls: tuple[str, ...]  # workflows this one starts
    decorator: Location | None = None  # the @workflow(...) line
    stores: Mapping[str, StoreMode] = field(default_factory=dict)  # binding -> how the runner must keep it
    bounds: Mapping[str, int] = field(default_factory=dict)  # fan-in binding -> most items
    doc: str = ""
