"""A Lambda step's payload: what the compiled ``lambda:invoke`` task sends the step runner.

One record, :class:`StepPayload`, with one encoding (:meth:`StepPayload.encode`) and one
decoding (:meth:`StepPayload.decode`). The compiler encodes it with :class:`Dynamic` values
where Step Functions fills them in at run time (``"run.$": "$$.Execution.Name"``); Step
Functions (or the local target, through the same template) sends the filled-in JSON; the
runner decodes it. The JSON::

    {"step": "module:function", "workflow": "name", "state": "state name",
     "execution.$": "$$.Execution.Id", "run.$": "$$.Execution.Name",
     "attempt.$": "$$.State.RetryCount",
     "map_path.$": "$.map_path",                 # inside a fan-out only
     "inline_limit": 16384,                      # bytes an envelope may hold inline
     "error_names": ["DataError", ...],          # names this step's Retry/Catch match (see below)
     "store": "always" | "inline",               # when a consumer needs one or the other
     "cache": true,                              # when the step is cached
     "batch": true,                              # a Batch step run as Lambda (no Batch here)
     "args": {"name": ARG, ...}}

where each ``ARG`` is one of ``{"value": <json>}`` (a literal or a parameter,
:class:`ValueArg`; ``{"value": <json>, "refs": true}`` for a value of the run's state that
steps wrote, a fan-out item or an approval, which may hold references to stored values),
``{"result": <envelope>, "path": [...]}`` (a step output, or a field of it,
:class:`ResultArg`), ``{"results": [<envelope>, ...]}`` (the collected results of an
inline fan-out, :class:`ResultsArg`) or ``{"error": {"Error": "...", "Cause": "..."}}`` (an
error caught by ``except ... as e``, which the runner turns back into an exception of that
name, :class:`ErrorArg`).

**Errors.** A step reports a raised exception by name, as the error type Step Functions
matches ``Retry`` and ``Catch`` against: the first name in ``error_names`` that the
exception's class or one of its base classes has (so ``except DataError`` catches its
subclasses, as in Python), otherwise the class's own name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .errors import ProtocolError
from .keys import attempt_prefix

__all__ = [
    "DEFAULT_INLINE_LIMIT",
    "Argument",
    "Dynamic",
    "ErrorArg",
    "ResultArg",
    "ResultsArg",
    "StepPayload",
    "StoreMode",
    "ValueArg",
    "decode_argument",
    "template",
]

JSON: TypeAlias = Any
StoreMode: TypeAlias = Literal["always", "inline"]
DEFAULT_INLINE_LIMIT = 32 * 1024


@dataclass(frozen=True, slots=True)
class Dynamic:
    """A value Step Functions fills in at run time from ``path`` (JSONPath or an intrinsic)."""

    path: str


def template(value: JSON) -> JSON:
    """``value`` as an ASL template: a key whose value is :class:`Dynamic` becomes ``key.$``."""
    if isinstance(value, Mapping):
        out: dict[str, JSON] = {}
        for key, item in value.items():
            if isinstance(item, Dynamic):
                out[f"{key}.$"] = item.path
            else:
                out[key] = template(item)
        return out
    if isinstance(value, (list, tuple)):
        return [template(item) for item in value]
    assert not isinstance(value, Dynamic), "a Dynamic value must stand under a key"
    return value


def _object(value: Mapping[str, JSON]) -> dict[str, JSON]:
    made = template(value)
    assert isinstance(made, dict)
    return made


# --- arguments ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValueArg:
    """A literal or a plain value of the state (a parameter, a loop item, an approval).

    ``refs``: the value comes from what steps wrote (a loop item, a merged value), so the
    references to stored values in it (``compiler.protocol.values``) are read; in a
    parameter or a literal they are not: a run's input never names what a step loads.
    """

    value: JSON
    refs: bool = False

    def encode(self) -> dict[str, JSON]:
        return _object({"value": self.value, **({"refs": True} if self.refs else {})})


@dataclass(frozen=True, slots=True)
class ResultArg:
    """A step's output (its envelope), or the field at ``path`` inside it."""

    envelope: JSON
    path: tuple[str | int, ...] = ()

    def encode(self) -> dict[str, JSON]:
        return _object({"result": self.envelope, **({"path": list(self.path)} if self.path else {})})


@dataclass(frozen=True, slots=True)
class ResultsArg:
    """The envelopes an inline fan-out collected, in item order."""

    envelopes: JSON

    def encode(self) -> dict[str, JSON]:
        return _object({"results": self.envelopes})


@dataclass(frozen=True, slots=True)
class ErrorArg:
    """An error caught by ``except ... as e``: ``{"Error": ..., "Cause": ...}``."""

    error: JSON

    def encode(self) -> dict[str, JSON]:
        return _object({"error": self.error})


Argument: TypeAlias = ValueArg | ResultArg | ResultsArg | ErrorArg


def decode_argument(data: JSON, where: str = "argument") -> Argument:
    """One ``args`` entry as the runner receives it."""
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{where}: an argument is an object, got {type(data).__name__}")
    if "value" in data:
        return ValueArg(data["value"], refs=data.get("refs") is True)
    if "result" in data:
        path = data.get("path") or []
        if not isinstance(path, list):
            raise ProtocolError(f"{where}: 'path' is a list of field names and indices")
        return ResultArg(data["result"], tuple(path))
    if "results" in data:
        if not isinstance(data["results"], list):
            raise ProtocolError(f"{where}: 'results' is a list of envelopes")
        return ResultsArg(data["results"])
    if "error" in data:
        return ErrorArg(data["error"])
    raise ProtocolError(f"{where}: unknown argument form with {sorted(data)}; it takes value, result, results or "
                        "error")


# --- the payload -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepPayload:
    """One call of a step, as the state machine (or the local target) asks for it."""

    step: str  # module:qualname
    workflow: str
    state: str
    run: str | Dynamic
    args: Mapping[str, Argument] = field(default_factory=dict)
    attempt: int | Dynamic = 0
    execution: str | Dynamic = ""
    map_path: str | Dynamic | None = None
    inline_limit: int = DEFAULT_INLINE_LIMIT
    store: StoreMode | None = None
    cache: bool = False
    error_names: tuple[str, ...] = ()
    batch: bool = False  # a Batch step (run as Lambda where there is no Batch): output at output_key()

    def encode(self) -> dict[str, JSON]:
        """The payload as JSON, or, with :class:`Dynamic` fields, as the task's ASL template."""
        document: dict[str, JSON] = {
            "args": {name: arg.encode() for name, arg in self.args.items()},
            "attempt": self.attempt, "execution": self.execution, "inline_limit": self.inline_limit,
            "run": self.run, "state": self.state, "step": self.step, "workflow": self.workflow,
        }
        if self.map_path is not None:
            document["map_path"] = self.map_path
        if self.error_names:
            document["error_names"] = list(self.error_names)
        if self.store is not None:
            document["store"] = self.store
        if self.cache:
            document["cache"] = True
        if self.batch:
            document["batch"] = True
        return _object(document)

    @classmethod
    def decode(cls, data: Mapping[str, JSON]) -> StepPayload:
        """The payload the runner received (every field filled in)."""
        missing = [k for k in ("step", "workflow", "state", "run") if not isinstance(data.get(k), str)]
        if missing:
            raise ProtocolError(f"step payload: {', '.join(missing)} missing or not text")
        args = data.get("args") or {}
        if not isinstance(args, Mapping):
            raise ProtocolError("step payload: 'args' is an object of arguments")
        store = data.get("store")
        if store not in (None, "always", "inline"):
            raise ProtocolError(f"step payload: store is 'always' or 'inline', got {store!r}")
        try:
            return cls(step=data["step"], workflow=data["workflow"], state=data["state"], run=data["run"],
                       args={name: decode_argument(arg, f"argument {name!r}") for name, arg in args.items()},
                       attempt=int(data.get("attempt") or 0), execution=str(data.get("execution") or ""),
                       map_path=data.get("map_path") or None,
                       inline_limit=int(data.get("inline_limit") or DEFAULT_INLINE_LIMIT), store=store,
                       cache=bool(data.get("cache", False)), error_names=tuple(data.get("error_names") or ()),
                       batch=bool(data.get("batch", False)))
        except (TypeError, ValueError) as exc:
            raise ProtocolError(f"step payload: {exc}") from None

    # --- what the runner reads of a decoded payload (every field filled in) ----------------

    def _filled(self, value: Any, name: str) -> Any:
        if isinstance(value, Dynamic):
            raise ProtocolError(f"step payload: {name} is filled in at run time ({value.path}); this is a template")
        return value

    @property
    def run_id(self) -> str:
        return str(self._filled(self.run, "run"))

    @property
    def attempt_number(self) -> int:
        return int(self._filled(self.attempt, "attempt"))

    @property
    def item(self) -> str | None:
        """The fan-out item's ``map_path`` (None outside a fan-out)."""
        found = self._filled(self.map_path, "map_path")
        return str(found) if found else None

    @property
    def attempt_prefix(self) -> str:
        return attempt_prefix(self.workflow, self.run_id, self.state, self.attempt_number, self.item)
