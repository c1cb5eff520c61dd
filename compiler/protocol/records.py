"""What the runner stores besides outputs, and what every reader of a run reads back: the
lineage of each attempt, the record that lets a ``cache=True`` step skip work, the record
that tells a run continuing a failed one which steps it may reuse, and an approval gate's
request. Each is a typed record with one encoding (canonical JSON) and one decoding.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeAlias

from .encoding import canonical
from .errors import ProtocolError
from .values import REF_KEY, ValuePath, ValueRef

__all__ = ["ApprovalRequest", "CacheRecord", "InputInfo", "Lineage", "LineageError", "LineageStatus", "OutputInfo",
           "RedriveRecord", "RedriveStep"]

JSON: TypeAlias = Any
LineageStatus: TypeAlias = Literal["running", "succeeded", "failed", "cached", "reused"]


def _document(data: bytes | str | Mapping[str, JSON], what: str) -> Mapping[str, JSON]:
    try:
        document = json.loads(data) if isinstance(data, (bytes, str)) else data
    except ValueError as exc:
        raise ProtocolError(f"{what}: not JSON ({exc})") from None
    if not isinstance(document, Mapping):
        raise ProtocolError(f"{what}: a JSON object, got {type(document).__name__}")
    return document


def _encode_refs(refs: tuple[tuple[ValuePath, ValueRef], ...]) -> list[JSON]:
    return [{"path": list(path), **ref.encode()[REF_KEY]} for path, ref in refs]


def _decode_refs(data: JSON) -> tuple[tuple[ValuePath, ValueRef], ...]:
    if not isinstance(data, list):
        return ()
    found: list[tuple[ValuePath, ValueRef]] = []
    for item in data:
        if isinstance(item, Mapping):
            body = {k: v for k, v in item.items() if k != "path"}
            found.append((tuple(item.get("path") or ()), ValueRef.decode({REF_KEY: body})))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class OutputInfo:
    """A step's output as lineage knows it: where it is stored (None: inline), its hash, its
    size, and each value in it carried by reference (its path in the output, key, codec,
    media type, content hash, size and class)."""

    ref: str | None
    hash: str
    bytes: int
    values: tuple[tuple[ValuePath, ValueRef], ...] = ()

    def encode(self) -> dict[str, JSON]:
        body: dict[str, JSON] = {"bytes": self.bytes, "hash": self.hash, "ref": self.ref}
        if self.values:
            body["values"] = _encode_refs(self.values)
        return body

    @classmethod
    def decode(cls, data: JSON) -> OutputInfo | None:
        if not isinstance(data, Mapping):
            return None
        return cls(ref=data.get("ref"), hash=str(data.get("hash") or ""), bytes=int(data.get("bytes") or 0),
                   values=_decode_refs(data.get("values")))


@dataclass(frozen=True, slots=True)
class InputInfo:
    """One input of a step: the stored output it came from (None: from the state), its hash,
    and the stored values it names (the keys the step read)."""

    ref: str | None
    hash: str
    values: tuple[str, ...] = ()

    def encode(self) -> dict[str, JSON]:
        body: dict[str, JSON] = {"hash": self.hash, "ref": self.ref}
        if self.values:
            body["values"] = list(self.values)
        return body


@dataclass(frozen=True, slots=True)
class LineageError:
    error: str  # the name Retry and Catch matched
    cause: str
    type: str  # the exception's own class
    traceback: str = ""

    def encode(self) -> dict[str, JSON]:
        return {"Cause": self.cause, "Error": self.error, "traceback": self.traceback, "type": self.type}


@dataclass(slots=True)
class Lineage:
    """One attempt of a step: what went in and out, hashes, timing, and how it ended."""

    run: str
    workflow: str
    state: str
    step: str
    attempt: int
    started: str
    execution: str = ""
    map_path: str | None = None
    status: LineageStatus = "running"
    code_hash: str | None = None
    inputs: dict[str, InputInfo] = field(default_factory=dict)
    inputs_hash: str | None = None
    output: OutputInfo | None = None
    files: list[str] | None = None
    error: LineageError | None = None
    reused_from: str | None = None  # the attempt whose output a redrive reused
    cache: str | None = None  # the cache record a cached step's output came from
    cache_miss: str | None = None  # why a cached step ran: no record yet, its code or inputs changed, expired
    finished: str | None = None
    duration_ms: float | None = None

    def encode(self) -> bytes:
        document: dict[str, JSON] = {"attempt": self.attempt, "execution": self.execution, "map_path": self.map_path,
                                     "run": self.run, "started": self.started, "state": self.state,
                                     "status": self.status, "step": self.step, "workflow": self.workflow}
        if self.code_hash is not None:
            document["code_hash"] = self.code_hash
            document["inputs"] = {name: i.encode() for name, i in self.inputs.items()}
        optional = {"inputs_hash": self.inputs_hash, "files": self.files, "reused_from": self.reused_from,
                    "cache": self.cache, "cache_miss": self.cache_miss, "finished": self.finished,
                    "duration_ms": self.duration_ms,
                    "output": self.output.encode() if self.output else None,
                    "error": self.error.encode() if self.error else None}
        document.update({key: value for key, value in optional.items() if value is not None})
        return canonical(document)

    @classmethod
    def decode(cls, data: bytes | str | Mapping[str, JSON]) -> Lineage:
        document = _document(data, "lineage record")
        try:
            error = document.get("error")
            return cls(run=str(document["run"]), workflow=str(document["workflow"]), state=str(document["state"]),
                       step=str(document["step"]), attempt=int(document["attempt"]), started=str(document["started"]),
                       execution=str(document.get("execution") or ""), map_path=document.get("map_path"),
                       status=document.get("status", "running"), code_hash=document.get("code_hash"),
                       inputs={name: InputInfo(i.get("ref"), str(i.get("hash")),
                                               tuple(str(k) for k in i.get("values") or ())) for name, i in
                               (document.get("inputs") or {}).items()},
                       inputs_hash=document.get("inputs_hash"), output=OutputInfo.decode(document.get("output")),
                       files=document.get("files"),
                       error=LineageError(str(error.get("Error")), str(error.get("Cause") or ""),
                                          str(error.get("type") or ""), str(error.get("traceback") or ""))
                       if isinstance(error, Mapping) else None,
                       reused_from=document.get("reused_from"), cache=document.get("cache"),
                       cache_miss=document.get("cache_miss"),
                       finished=document.get("finished"), duration_ms=document.get("duration_ms"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"lineage record: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True, slots=True)
class CacheRecord:
    """What a ``cache=True`` step left for the next run on the same code and inputs."""

    envelope: dict[str, JSON]
    output: OutputInfo
    lineage: str  # the attempt that made it
    created: str | None = None  # when (ISO 8601, UTC): a step's cache lifetime counts from it

    def encode(self) -> bytes:
        document = {"envelope": self.envelope, "lineage": self.lineage, "output": self.output.encode()}
        if self.created is not None:
            document["created"] = self.created
        return canonical(document)

    @classmethod
    def decode(cls, data: bytes | str | Mapping[str, JSON]) -> CacheRecord:
        document = _document(data, "cache record")
        output = OutputInfo.decode(document.get("output"))
        envelope = document.get("envelope")
        if output is None or not isinstance(envelope, dict):
            raise ProtocolError("cache record: it holds no envelope and output")
        created = document.get("created")
        return cls(envelope=envelope, output=output, lineage=str(document.get("lineage") or ""),
                   created=str(created) if created else None)


@dataclass(frozen=True, slots=True)
class RedriveStep:
    """A finished step of the failed run: what its state held, and its last attempt."""

    envelope: dict[str, JSON] | None
    status: str
    attempt: int


@dataclass(frozen=True, slots=True)
class RedriveRecord:
    """Which run a new run continues (where Step Functions cannot redrive it), and the
    steps that finished there, by ``[<map_path>/]<state>``."""

    from_run: str
    steps: Mapping[str, RedriveStep]

    def encode(self) -> bytes:
        return canonical({"from": self.from_run, "steps": {
            key: {"attempt": s.attempt, "envelope": s.envelope, "status": s.status} for key, s in self.steps.items()}})

    @classmethod
    def decode(cls, data: bytes | str | Mapping[str, JSON]) -> RedriveRecord:
        document = _document(data, "redrive record")
        try:
            steps = {key: RedriveStep(s.get("envelope") if isinstance(s.get("envelope"), dict) else None,
                                      str(s.get("status") or ""), int(s.get("attempt") or 0))
                     for key, s in (document.get("steps") or {}).items() if isinstance(s, Mapping)}
            return cls(from_run=str(document["from"]), steps=steps)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"redrive record: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What an approval gate leaves in the artifact store: the question, and how to answer
    it (the task token, a capability to continue the run; None on the local target, where
    the answer is written beside the request)."""

    workflow: str
    run: str
    state: str
    message: str
    requested: str
    execution: str = ""
    token: str | None = None

    def encode(self) -> bytes:
        document = {field.name: getattr(self, field.name) for field in fields(self)}
        return json.dumps({k: v for k, v in document.items() if v is not None}, indent=2).encode()

    @classmethod
    def decode(cls, data: bytes | str | Mapping[str, JSON]) -> ApprovalRequest:
        document = _document(data, "approval request")
        try:
            return cls(workflow=str(document["workflow"]), run=str(document["run"]), state=str(document["state"]),
                       message=str(document.get("message") or document.get("question") or ""),
                       requested=str(document.get("requested") or ""), execution=str(document.get("execution") or ""),
                       token=document.get("token"))
        except KeyError as exc:
            raise ProtocolError(f"approval request: {exc} missing") from None
