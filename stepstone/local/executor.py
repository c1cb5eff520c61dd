"""The local target: runs a workflow's IR in this process, with the compiled ASL's semantics.

Steps run through the same step runner as in Lambda (``lambdas.runner``), against a local
artifact store laid out like the S3 bucket. Independent units run side by side on threads
(at most ``workers`` steps at once); conditions read the same fields; a fan-out runs its
items with at most ``max_concurrency`` at once; retries follow the compiled Retry list
(the same ``retriers()`` the emitter uses), with backoff and full jitter; a step's timeout
fails it with ``States.Timeout``; ``except`` catches by the names Step Functions reports
(a Batch job's failure is ``States.TaskFailed`` here too). Every step's progress goes to
the run record and to an event sink (the live view).
"""

from __future__ import annotations

import contextvars
import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from compiler.asl.tasks import retriers
from compiler.asl.values import slug
from compiler.dsl.decorated import import_ref
from compiler.dsl.errors import StepTimeoutError
from compiler.ir import (
    Approve,
    BindingKind,
    BindingRef,
    Block,
    CallWorkflow,
    Copy,
    FanOut,
    If,
    Node,
    Raise,
    Return,
    StepCall,
    Try,
    Workflow,
)
from compiler.parse import parse_workflow
from compiler.protocol import (
    DEFAULT_INLINE_LIMIT,
    Lineage,
    StepPayload,
    attempt_prefix,
    canonical,
    envelope,
    run_prefix,
)
from lambdas.errors import StepFailedError
from lambdas.runner import run_step
from lambdas.store import ArtifactStore

from .logs import capture_output, step_log
from .records import RunRecord, StepRecord, find_run, now, save_run
from .values import Frame, RunDataError

__all__ = ["Approver", "Event", "LocalRun", "RunFailure", "RunResult"]

JSON = Any
SAVE_INTERVAL = 0.2  # seconds: how stale the run record on disk may be while steps change


class RunFailure(Exception):
    """The run (or the branch it happened in) failed: what Step Functions would record."""

    def __init__(self, error: str, cause: str, state: str | None = None, trace: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.state = state
        self.trace = trace


class _Returned(Exception):
    def __init__(self, output: JSON) -> None:
        super().__init__("return")
        self.output = output


@dataclass(frozen=True)
class Event:
    kind: Literal["run", "step", "approval"]
    record: RunRecord
    step: StepRecord | None = None
    note: str = ""


Approver = Callable[[str, str], bool]  # (question, state) -> approved?


@dataclass(frozen=True)
class RunResult:
    record: RunRecord
    output: JSON


def _timeout_invoker(seconds: int | None) -> Callable[[Callable[..., Any], dict[str, Any]], Any] | None:
    if seconds is None:
        return None

    def invoke(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        box: dict[str, Any] = {}
        context = contextvars.copy_context()  # the step's context (where save_artifact writes) goes along

        def target() -> None:
            try:
                box["value"] = context.run(fn, **kwargs)
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=target, daemon=True, name="stepstone-step")
        thread.start()
        thread.join(seconds)
        if thread.is_alive():
            raise StepTimeoutError(f"the step ran longer than its timeout of {seconds} seconds")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    return invoke


class LocalRun:
    """One run of a workflow (``definition``: the ``@workflow`` object) in this process."""

    def __init__(self, definition: Any, store: ArtifactStore, *, run_id: str, file: str = "",
                 workers: int = 8, sequential: bool = False, approver: Approver | None = None,
                 on_event: Callable[[Event], None] | None = None, resume: RunRecord | None = None,
                 retry_delay_scale: float = 1.0, enforce_timeouts: bool = True, parent: str | None = None,
                 trigger: str = "manual", echo_output: bool = True) -> None:
        self.definition = definition
        self.workflow: Workflow = parse_workflow(definition)
        self.store = store
        self.sequential = sequential or workers <= 1
        self.slots = threading.Semaphore(max(workers, 1))
        self.approver = approver
        self.on_event = on_event or (lambda event: None)
        self.retry_delay_scale = retry_delay_scale
        self.enforce_timeouts = enforce_timeouts and not self.sequential
        self.lock = threading.RLock()
        self.previous = {key: step for key, step in (resume.steps.items() if resume else ())
                         if step.status in ("succeeded", "cached", "reused")}
        if resume is not None:
            self.record = resume.model_copy(deep=True)
            self.record.status, self.record.resumed = "running", resume.resumed + 1
            self.record.error = self.record.cause = self.record.failed_state = None
            self.record.finished = None
        else:
            self.record = RunRecord(run_id=run_id, workflow=self.workflow.name, ref=self.workflow.ref, file=file,
                                    parent=parent)
        self.record.trigger = self.record.trigger if resume is not None else trigger
        self.run_id = self.record.run_id
        self._saved_at, self._dirty = 0.0, False
        self.workers = workers
        self.echo_output = echo_output

    # --- the run ----------------------------------------------------------------------------

    def run(self, params: dict[str, JSON]) -> RunResult:
        """Run to the end; the record says how it went (also when it raises KeyboardInterrupt)."""
        record = self.record
        record.params = params
        self._save()
        self.on_event(Event("run", record, note="started"))
        frame = Frame(self.workflow, self.run_id, params, self.store)
        clock = time.perf_counter()
        output: JSON = None
        try:
            with capture_output(echo=self.echo_output):
                self.block(self.workflow.body, frame)
            output = envelope(None)
            record.status = "succeeded"
        except _Returned as returned:
            output = returned.output
            record.status = "succeeded"
        except RunFailure as failure:
            record.status = "failed"
            record.error, record.cause, record.failed_state = failure.error, failure.cause, failure.state
        except KeyboardInterrupt:
            record.status = "interrupted"
            for step in record.steps.values():
                if step.status in ("running", "retrying"):
                    step.status, step.error, step.cause = "failed", "Interrupted", "stopped by Ctrl-C"
            raise
        except Exception as exc:  # a bug of ours: the record still says where the run stopped
            record.status, record.error, record.cause = "failed", "InternalError", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record.output = output
            record.finished = now()
            record.duration_ms = round((time.perf_counter() - clock) * 1000, 1)
            self._save()
            self.on_event(Event("run", record, note=record.status))
        return RunResult(record, output)

    def _save(self, *, now_: bool = True) -> None:
        """Write the record. Step changes (``now_=False``) are written at most every
        SAVE_INTERVAL seconds, the latest always (a timer writes what waits): rewriting the
        whole record on every change would cost each step time in proportion to the run's
        length. The run's start and end, failures and approval gates are written at once."""
        with self.lock:
            clock = time.monotonic()
            if now_ or clock - self._saved_at >= SAVE_INTERVAL:
                save_run(self.record, self.store)
                self._saved_at, self._dirty = clock, False
                return
            if not self._dirty:
                self._dirty = True
                timer = threading.Timer(SAVE_INTERVAL - (clock - self._saved_at), self._flush)
                timer.daemon = True
                timer.start()

    def _flush(self) -> None:
        with self.lock:
            if self._dirty:
                self._save()

    def _step_event(self, step: StepRecord, note: str = "") -> None:
        self._save(now_=step.status == "failed")
        self.on_event(Event("step", self.record, step, note))

    # --- blocks -------------------------------------------------------------------------------

    def block(self, block: Block, frame: Frame) -> None:
        """Run a block's units as their dependencies allow; raises _Returned or RunFailure."""
        if not block.units:
            return
        if self.sequential:
            for unit in block.units:  # indices are in program order, a topological order
                self.unit(unit.node, frame)
            return
        done: set[int] = set()
        pending = set(range(len(block.units)))
        running: dict[Future[None], int] = {}
        stop: BaseException | None = None
        with ThreadPoolExecutor(max_workers=min(32, len(block.units)), thread_name_prefix="stepstone") as pool:
            while pending or running:
                if stop is None:
                    for index in sorted(pending):
                        if block.deps[index] <= done:
                            pending.discard(index)
                            running[pool.submit(self.unit, block.units[index].node, frame)] = index
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    index = running.pop(future)
                    error = future.exception()
                    if error is None:
                        done.add(index)
                    elif stop is None or (isinstance(error, RunFailure) and isinstance(stop, _Returned)):
                        stop = error
                if stop is not None:
                    pending.clear()  # a failed branch stops the rest, as a Parallel state does
        if stop is not None:
            raise stop

    def unit(self, node: Node, frame: Frame) -> None:
        try:
            self._unit(node, frame)
        except RunDataError as bad:  # what Step Functions reports as States.Runtime
            raise RunFailure("States.Runtime", str(bad), node.name) from None

    def _unit(self, node: Node, frame: Frame) -> None:
        if isinstance(node, StepCall):
            self.step(node, frame)
        elif isinstance(node, If):
            for branch in node.branches:
                if frame.holds(branch.condition):
                    self.block(branch.body, frame)
                    return
            if node.orelse is not None:
                self.block(node.orelse, frame)
        elif isinstance(node, FanOut):
            self.fan_out(node, frame)
        elif isinstance(node, Try):
            self.try_(node, frame)
        elif isinstance(node, Copy):
            frame.values[node.binding] = self._copied(node, frame)
        elif isinstance(node, Return):
            raise _Returned(self._output(node, frame))
        elif isinstance(node, Raise):
            if node.rethrow is not None:
                caught = frame.get(node.rethrow)
                raise RunFailure(caught["Error"], caught.get("Cause", ""), node.name)
            raise RunFailure(node.error, node.cause, node.name)
        elif isinstance(node, CallWorkflow):
            self.nested(node, frame)
        else:
            assert isinstance(node, Approve)
            self.approve(node, frame)

    # --- values that Pass states make -------------------------------------------------------

    def _copied(self, node: Copy, frame: Frame) -> JSON:
        paths = frame.paths
        assert paths is not None
        return frame.pass_output(paths.copied(node.value, self.workflow.bindings[node.binding], frame.in_map))

    def _output(self, node: Return, frame: Frame) -> JSON:
        paths = frame.paths
        assert paths is not None
        return frame.pass_output(paths.returned(node.value, frame.in_map))

    # --- steps ----------------------------------------------------------------------------------

    def _step_record(self, node: StepCall, frame: Frame) -> StepRecord:
        key = f"{frame.map_path}/{node.name}" if frame.map_path else node.name
        with self.lock:
            step = self.record.steps.get(key)
            if step is None or step.status in ("failed", "running", "retrying"):
                attempts = step.attempts if step else 0
                step = StepRecord(state=node.name, step=node.step.name, map_path=frame.map_path, attempts=attempts,
                                  batch=node.step.is_batch)
                self.record.steps[key] = step
            return step

    def step(self, node: StepCall, frame: Frame) -> None:
        step = self._step_record(node, frame)
        earlier = self.previous.get(step.key)
        if earlier is not None:  # resuming: this step finished in the run being resumed
            step.status, step.envelope = "reused", earlier.envelope
            step.output_bytes, step.stored, step.duration_ms = earlier.output_bytes, earlier.stored, 0.0
            if node.binding and not node.step.is_batch:
                frame.values[node.binding] = earlier.envelope
            self._step_event(step)
            return
        policies = retriers(node.step, lambda_invoke=False)
        used = [0] * len(policies)
        names = {n for p in policies for n in p.errors} | frame.catch_names
        invoke = _timeout_invoker(node.step.timeout if self.enforce_timeouts else None)
        while True:
            call = StepPayload(
                step=node.step.ref, workflow=self.workflow.name, state=node.name, run=self.run_id,
                args={name: frame.argument(value) for name, value in node.args}, attempt=step.attempts,
                execution=f"local:{self.workflow.name}:{self.run_id}", map_path=frame.map_path,
                inline_limit=DEFAULT_INLINE_LIMIT, store=self.workflow.stores.get(node.binding or ""),
                error_names=tuple(sorted(n for n in names if not n.startswith("States."))),
                batch=node.step.is_batch)
            step.status, step.started = "running", step.started or now()
            step.attempts += 1
            self._step_event(step)
            clock = time.perf_counter()
            try:
                with self.slots, step_log(self.store, call.attempt_prefix):
                    result = run_step(call, self.store, invoke=invoke)
            except StepFailedError as failed:
                step.duration_ms += round((time.perf_counter() - clock) * 1000, 1)
                # a Batch job's failure reaches Step Functions as States.TaskFailed (timeouts stay States.Timeout)
                error = "States.TaskFailed" if node.step.is_batch and failed.error != "States.Timeout" else failed.error
                step.error, step.cause, step.traceback = error, failed.cause, failed.trace
                delay = self._retry_delay(policies, used, error)
                if delay is None:
                    step.status = "failed"
                    self._step_event(step)
                    raise RunFailure(error, failed.cause, node.name, failed.trace) from None
                step.status = "retrying"
                self._step_event(step, note=f"retry in {delay:.1f}s")
                time.sleep(delay * self.retry_delay_scale)
                continue
            except RunDataError as bad:
                step.status, step.error, step.cause = "failed", "States.Runtime", str(bad)
                self._step_event(step)
                raise RunFailure("States.Runtime", str(bad), node.name) from None
            step.duration_ms += round((time.perf_counter() - clock) * 1000, 1)
            step.error = step.cause = step.traceback = None
            self._finish_step(step, node, frame, result)
            return

    def _finish_step(self, step: StepRecord, node: StepCall, frame: Frame, result: dict[str, JSON]) -> None:
        step.envelope = result
        step.stored = result.get("ref")
        key = attempt_prefix(self.workflow.name, self.run_id, node.name, step.attempts - 1, frame.map_path)
        try:
            lineage = Lineage.decode(self.store.read(key + "lineage.json"))
            step.output_bytes = lineage.output.bytes if lineage.output else None
            step.status = "cached" if lineage.status == "cached" else "succeeded"
        except Exception:  # the record is informative; the step's result stands without it
            step.status = "succeeded"
            step.output_bytes = len(canonical(result))
        if node.binding and not node.step.is_batch:
            frame.values[node.binding] = result
        self._step_event(step)

    @staticmethod
    def _matches(errors: tuple[str, ...], error: str) -> bool:
        return error in errors or ("States.ALL" in errors and error not in ("States.Runtime",
                                                                            "States.DataLimitExceeded"))

    def _retry_delay(self, policies: list[Any], used: list[int], error: str) -> float | None:
        """Seconds to wait before the next attempt, or None when no retry is left (ASL's Retry rules)."""
        for index, policy in enumerate(policies):
            if self._matches(policy.errors, error):
                if used[index] >= policy.max_attempts:
                    return None
                delay = float(policy.interval or 1) * (policy.backoff or 2.0) ** used[index]
                if policy.max_delay is not None:
                    delay = min(delay, float(policy.max_delay))
                used[index] += 1
                return random.uniform(0, delay) if policy.jitter else delay
        return None

    # --- fan-out, failure handlers, nested runs, approvals ---------------------------------------

    def fan_out(self, node: FanOut, frame: Frame) -> None:
        items = frame.items(node.items, distributed=node.mode == "distributed")
        name = slug(node.name)
        paths = [f"{frame.map_path}/{name}/{i}" if frame.map_path else f"{name}/{i}" for i in range(len(items))]
        outputs: list[JSON] = [None] * len(items)

        def one(index: int) -> None:
            child = frame.child(paths[index], dict(frame.values))
            child.values[node.item] = items[index]
            self.block(node.body, child)
            if node.result is not None:
                assert isinstance(node.result, BindingRef)
                binding = self.workflow.bindings[node.result.key]
                outputs[index] = (child.deferred(node.result.key) if binding.kind is BindingKind.DEFERRED
                                  else child.get(node.result.key))

        limit = node.max_concurrency or len(items) or 1
        if self.sequential:
            for index in range(len(items)):
                one(index)
        else:
            with ThreadPoolExecutor(max_workers=max(1, min(limit, 32, len(items) or 1)),
                                    thread_name_prefix="stepstone-item") as pool:
                futures = [pool.submit(one, index) for index in range(len(items))]
                errors = [f.exception() for f in futures]
            failure = next((e for e in errors if e is not None), None)
            if failure is not None:  # the Map fails with the first failed item's error
                raise failure
        if node.binding is None:
            return
        if node.mode == "inline":
            frame.values[node.binding] = outputs
        else:
            frame.values[node.binding] = self._result_writer(node, frame, paths, outputs)

    def _result_writer(self, node: FanOut, frame: Frame, paths: list[str], outputs: list[JSON]) -> JSON:
        """The distributed Map's results, written as Step Functions' result writer writes them."""
        folder = f"{run_prefix(self.workflow.name, self.run_id)}{frame.map_path + '/' if frame.map_path else ''}" \
                 f"{slug(node.name)}/local"
        results = [{"Input": json.dumps({"map_path": path}), "Output": json.dumps(output), "Status": "SUCCEEDED"}
                   for path, output in zip(paths, outputs, strict=True)]
        self.store.write(f"{folder}/SUCCEEDED_0.json", canonical(results))
        manifest = {"DestinationBucket": "local", "MapRunArn": f"local:{self.run_id}:{node.name}",
                    "ResultFiles": {"FAILED": [], "PENDING": [],
                                    "SUCCEEDED": [{"Key": f"{folder}/SUCCEEDED_0.json", "Size": len(results)}]}}
        self.store.write(f"{folder}/manifest.json", canonical(manifest))
        return {"fields": {}, "ref": f"{folder}/manifest.json", "value": None}

    def try_(self, node: Try, frame: Frame) -> None:
        inner = frame.inside_try(frozenset(n for handler in node.handlers for n in handler.errors))
        try:
            self.block(node.body, inner)
            return
        except RunFailure as failure:
            for handler in node.handlers:
                if self._matches(handler.errors, failure.error):
                    if handler.binding:
                        frame.values[handler.binding] = {"Cause": failure.cause, "Error": failure.error}
                    self.block(handler.body, frame)
                    return
            raise

    def nested(self, node: CallWorkflow, frame: Frame) -> None:
        """A call to another workflow: a run of its own (a child execution), as startExecution.sync:2."""
        definition: Any = import_ref(node.ref)
        params = definition.validate_params({name: frame.plain(value) for name, value in node.params})
        child_id = f"{self.run_id}.{slug(frame.map_path + '-' if frame.map_path else '')}{slug(node.name)}"
        earlier = find_run(self.store, child_id)
        if earlier is not None and earlier.status == "succeeded":
            output = earlier.output
        else:
            child = LocalRun(definition, self.store, run_id=child_id, workers=self.workers,
                             sequential=self.sequential, approver=self.approver, on_event=self.on_event,
                             resume=earlier, retry_delay_scale=self.retry_delay_scale,
                             enforce_timeouts=self.enforce_timeouts, parent=self.run_id,
                             trigger=f"workflow {self.workflow.name}", echo_output=self.echo_output)
            result = child.run(params)
            if result.record.status != "succeeded":
                raise RunFailure("States.TaskFailed", f"workflow {node.workflow} failed: {result.record.error}: "
                                 f"{result.record.cause}", node.name)
            output = result.output
        if node.binding:
            frame.values[node.binding] = output

    def approve(self, node: Approve, frame: Frame) -> None:
        step = self._step_record_for(node.name, frame)
        earlier = self.previous.get(step.key)
        if earlier is not None:
            approved = bool((earlier.envelope or {}).get("approved"))
        else:
            if self.approver is None:
                step.status, step.error = "failed", "ApprovalNeeded"
                step.cause = f"{node.message!r} needs an answer: run again with --approve or --reject"
                self._step_event(step)
                raise RunFailure("ApprovalNeeded", step.cause, node.name)
            step.status, step.started = "running", step.started or now()
            self._save()  # the record shows the gate waiting while the question is out
            self.on_event(Event("approval", self.record, step, node.message))
            approved = self.approver(node.message, node.name)
        answer = {"approved": approved, "approver": "local", "comment": ""}
        step.status, step.envelope, step.attempts = "succeeded", answer, max(step.attempts, 1)
        if node.binding:
            frame.values[node.binding] = answer
        self._step_event(step, note="approved" if approved else "rejected")

    def _step_record_for(self, state: str, frame: Frame) -> StepRecord:
        key = f"{frame.map_path}/{state}" if frame.map_path else state
        with self.lock:
            step = self.record.steps.get(key) or StepRecord(state=state, step="approve", map_path=frame.map_path)
            self.record.steps[key] = step
            return step

