"""The local target: runs a workflow's IR in this process, with the compiled ASL's semantics.

Steps run through the same step runner as in Lambda (``lambdas.runner``), against a local
artifact store laid out like the S3 bucket. Each block runs in the layout the emitter
compiles it to (``compiler.plan``: the same series-parallel tree, so what runs side by side
here runs side by side in Step Functions), on threads, at most ``workers`` steps at once; a
failed branch stops its siblings, as a Parallel state does. Conditions read the same
fields; a fan-out runs its items with at most ``max_concurrency`` at once; retries follow
the compiled Retry list (the same ``retriers()`` the emitter uses, matched and timed by
``compiler.asl.matching``); a step's timeout fails it with ``States.Timeout``; ``except``
catches by the names Step Functions reports (a Batch job's failure is ``States.TaskFailed``
here too). Every step's progress goes to the run record and to an event sink (the live view).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from compiler.asl.matching import RetryBook, error_matches
from compiler.asl.tasks import retriers
from compiler.asl.values import slug
from compiler.dsl.decorated import import_ref
from compiler.inputs import INVALID_PARAMETER, input_rules
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
from compiler.plan import Planner
from compiler.protocol import (
    DEFAULT_INLINE_LIMIT,
    Lineage,
    StepPayload,
    attempt_prefix,
    canonical,
    envelope,
    item_path,
    results_prefix,
    step_key,
)
from compiler.seriesparallel import Leaf, Series, SPNode
from lambdas.errors import StepFailedError
from lambdas.runner import run_step
from lambdas.store import ArtifactStore

from ..errors import RunFailedError
from ..records import Event, RunRecord, StepRecord, now
from .attempts import timeout_invoker
from .logs import capture_output, step_log
from .options import ExecutorOptions
from .records import find_run, save_run
from .values import RunDataError, StateView

__all__ = ["Approver", "LocalRun", "RunResult"]

JSON = Any
SAVE_INTERVAL = 0.2  # seconds: how stale the run record on disk may be while steps change


class _Returned(Exception):
    def __init__(self, output: JSON) -> None:
        super().__init__("return")
        self.output = output


Approver = Callable[[str, str], bool]  # (question, state) -> approved?


@dataclass(frozen=True)
class RunResult:
    record: RunRecord
    output: JSON


class LocalRun:
    """One run of a workflow (``definition``: the ``@workflow`` object) in this process."""

    def __init__(self, definition: Any, store: ArtifactStore, *, run_id: str, file: str = "",
                 options: ExecutorOptions | None = None, approver: Approver | None = None,
                 on_event: Callable[[Event], None] | None = None, resume: RunRecord | None = None,
                 parent: str | None = None, trigger: str = "manual") -> None:
        self.definition = definition
        self.workflow: Workflow = parse_workflow(definition)
        self.planner = Planner(param_names=self.workflow.params.names)  # the emitter's layouts
        self.store = store
        self.options = options = options or ExecutorOptions()
        self.sequential = options.one_at_a_time
        self.slots = threading.Semaphore(max(options.workers, 1))
        self.approver = approver
        self.on_event = on_event or (lambda event: None)
        self.enforce_timeouts = options.enforce_timeouts and not self.sequential
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

    # --- the run ----------------------------------------------------------------------------

    def run(self, params: dict[str, JSON]) -> RunResult:
        """Run to the end; the record says how it went (also when it raises KeyboardInterrupt)."""
        record = self.record
        rules = input_rules(self.workflow)  # the compiled machine's first states: defaults, then checks
        record.params = params = rules.with_defaults(params)
        self._save()
        self.on_event(Event("run", record, note="started"))
        frame = StateView(self.workflow, self.run_id, params, self.store)
        clock = time.perf_counter()
        output: JSON = None
        try:
            if (problem := rules.first_problem(params)) is not None:
                raise RunFailedError(INVALID_PARAMETER, problem[1], problem[0])
            with capture_output(echo=self.options.echo_output):
                self.block(self.workflow.body, frame)
            output = envelope(None)
            record.status = "succeeded"
        except _Returned as returned:
            output = returned.output
            record.status = "succeeded"
        except RunFailedError as failure:
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

    def block(self, block: Block, frame: StateView, outer: _Stop | None = None) -> None:
        """Run a block's units in the emitter's layout; raises _Returned or RunFailedError."""
        if not block.units:
            return
        if self.sequential:
            for unit in block.units:  # indices are in program order, a topological order
                self.unit(unit.node, frame)
            return
        self._layout(block, self.planner.layout(block).tree, frame, _Stop(outer))

    def _layout(self, block: Block, tree: SPNode, frame: StateView, stop: _Stop) -> None:
        """A Leaf runs its unit, a Series its parts in order, a Parallel its parts side by side
        (a Parallel state): the first failure stops what has not started yet, in every branch."""
        if isinstance(tree, Leaf):
            if not stop.stopped:
                self.unit(block.units[tree.index].node, frame, stop)
            return
        if isinstance(tree, Series):
            for part in tree.parts:
                if stop.stopped:
                    return
                self._layout(block, part, frame, stop)
            return
        branches = _Stop(stop)

        def branch(part: SPNode) -> None:
            try:
                self._layout(block, part, frame, branches)
            except BaseException as exc:
                branches.record(exc)

        with ThreadPoolExecutor(max_workers=min(32, len(tree.parts)), thread_name_prefix="stepstone") as pool:
            list(pool.map(branch, tree.parts))
        if branches.error is not None:
            raise branches.error

    def unit(self, node: Node, frame: StateView, stop: _Stop | None = None) -> None:
        try:
            self._unit(node, frame, stop)
        except RunDataError as bad:  # what Step Functions reports as States.Runtime
            raise RunFailedError("States.Runtime", str(bad), node.name) from None

    def _unit(self, node: Node, frame: StateView, stop: _Stop | None) -> None:
        if isinstance(node, StepCall):
            self.step(node, frame)
        elif isinstance(node, If):
            for branch in node.branches:
                if frame.holds(branch.condition):
                    self.block(branch.body, frame, stop)
                    return
            if node.orelse is not None:
                self.block(node.orelse, frame, stop)
        elif isinstance(node, FanOut):
            self.fan_out(node, frame)
        elif isinstance(node, Try):
            self.try_(node, frame, stop)
        elif isinstance(node, Copy):
            frame.values[node.binding] = self._copied(node, frame)
        elif isinstance(node, Return):
            raise _Returned(self._output(node, frame))
        elif isinstance(node, Raise):
            if node.rethrow is not None:
                caught = frame.get(node.rethrow)
                raise RunFailedError(caught["Error"], caught.get("Cause", ""), node.name)
            raise RunFailedError(node.error, node.cause, node.name)
        elif isinstance(node, CallWorkflow):
            self.nested(node, frame)
        else:
            assert isinstance(node, Approve)
            self.approve(node, frame)

    # --- values that Pass states make -------------------------------------------------------

    def _copied(self, node: Copy, frame: StateView) -> JSON:
        paths = frame.paths
        assert paths is not None
        return frame.pass_output(paths.copied(node.value, self.workflow.bindings[node.binding], frame.in_map))

    def _output(self, node: Return, frame: StateView) -> JSON:
        paths = frame.paths
        assert paths is not None
        return frame.pass_output(paths.returned(node.value, frame.in_map))

    # --- steps ----------------------------------------------------------------------------------

    def _step_record(self, node: StepCall, frame: StateView) -> StepRecord:
        key = step_key(node.name, frame.map_path)
        with self.lock:
            step = self.record.steps.get(key)
            if step is None or step.status in ("failed", "running", "retrying"):
                attempts = step.attempts if step else 0
                step = StepRecord(state=node.name, step=node.step.name, map_path=frame.map_path, attempts=attempts,
                                  batch=node.step.is_batch)
                self.record.steps[key] = step
            return step

    def step(self, node: StepCall, frame: StateView) -> None:
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
        book = RetryBook(policies)
        names = {n for p in policies for n in p.errors} | frame.catch_names
        invoke = timeout_invoker(node.step.timeout if self.enforce_timeouts else None)
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
                delay = book.next_delay(error)
                if delay is None:
                    step.status = "failed"
                    self._step_event(step)
                    raise RunFailedError(error, failed.cause, node.name, failed.trace) from None
                step.status = "retrying"
                self._step_event(step, note=f"retry in {delay:.1f}s")
                time.sleep(delay * self.options.retry_delay_scale)
                continue
            except RunDataError as bad:
                step.status, step.error, step.cause = "failed", "States.Runtime", str(bad)
                self._step_event(step)
                raise RunFailedError("States.Runtime", str(bad), node.name) from None
            step.duration_ms += round((time.perf_counter() - clock) * 1000, 1)
            step.error = step.cause = step.traceback = None
            self._finish_step(step, node, frame, result)
            return

    def _finish_step(self, step: StepRecord, node: StepCall, frame: StateView, result: dict[str, JSON]) -> None:
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

    # --- fan-out, failure handlers, nested runs, approvals ---------------------------------------

    def fan_out(self, node: FanOut, frame: StateView) -> None:
        items = frame.items(node.items, distributed=node.mode == "distributed")
        name = slug(node.name)
        paths = [item_path(frame.map_path, name, i) for i in range(len(items))]
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

    def _result_writer(self, node: FanOut, frame: StateView, paths: list[str], outputs: list[JSON]) -> JSON:
        """The distributed Map's results, written as Step Functions' result writer writes them."""
        folder = results_prefix(self.workflow.name, self.run_id, slug(node.name), frame.map_path) + "/local"
        results = [{"Input": json.dumps({"map_path": path}), "Output": json.dumps(output), "Status": "SUCCEEDED"}
                   for path, output in zip(paths, outputs, strict=True)]
        self.store.write(f"{folder}/SUCCEEDED_0.json", canonical(results))
        manifest = {"DestinationBucket": "local", "MapRunArn": f"local:{self.run_id}:{node.name}",
                    "ResultFiles": {"FAILED": [], "PENDING": [],
                                    "SUCCEEDED": [{"Key": f"{folder}/SUCCEEDED_0.json", "Size": len(results)}]}}
        self.store.write(f"{folder}/manifest.json", canonical(manifest))
        return envelope(ref=f"{folder}/manifest.json")

    def try_(self, node: Try, frame: StateView, stop: _Stop | None) -> None:
        inner = frame.inside_try(frozenset(n for handler in node.handlers for n in handler.errors))
        try:
            self.block(node.body, inner, stop)
            return
        except RunFailedError as failure:
            for handler in node.handlers:
                if error_matches(handler.errors, failure.error):
                    if handler.binding:
                        frame.values[handler.binding] = {"Cause": failure.cause, "Error": failure.error}
                    self.block(handler.body, frame, stop)
                    return
            raise

    def nested(self, node: CallWorkflow, frame: StateView) -> None:
        """A call to another workflow: a run of its own (a child execution), as startExecution.sync:2."""
        definition: Any = import_ref(node.ref)
        params = definition.validate_params({name: frame.plain(value) for name, value in node.params}, nested=True)
        child_id = f"{self.run_id}.{slug(frame.map_path + '-' if frame.map_path else '')}{slug(node.name)}"
        earlier = find_run(self.store, child_id)
        if earlier is not None and earlier.status == "succeeded":
            output = earlier.output
        else:
            child = LocalRun(definition, self.store, run_id=child_id, options=self.options, approver=self.approver,
                             on_event=self.on_event, resume=earlier, parent=self.run_id,
                             trigger=f"workflow {self.workflow.name}")
            result = child.run(params)
            if result.record.status != "succeeded":
                raise RunFailedError("States.TaskFailed", f"workflow {node.workflow} failed: {result.record.error}: "
                                 f"{result.record.cause}", node.name)
            output = result.output
        if node.binding:
            frame.values[node.binding] = output

    def approve(self, node: Approve, frame: StateView) -> None:
        step = self._step_record_for(node.name, frame)
        earlier = self.previous.get(step.key)
        if earlier is not None:
            approved = bool((earlier.envelope or {}).get("approved"))
        else:
            if self.approver is None:
                step.status, step.error = "failed", "ApprovalNeeded"
                step.cause = f"{node.message!r} needs an answer: run again with --approve or --reject"
                self._step_event(step)
                raise RunFailedError("ApprovalNeeded", step.cause, node.name)
            step.status, step.started = "running", step.started or now()
            self._save()  # the record shows the gate waiting while the question is out
            self.on_event(Event("approval", self.record, step, node.message))
            approved = self.approver(node.message, node.name)
        answer = {"approved": approved, "approver": "local", "comment": ""}
        step.status, step.envelope, step.attempts = "succeeded", answer, max(step.attempts, 1)
        if node.binding:
            frame.values[node.binding] = answer
        self._step_event(step, note="approved" if approved else "rejected")

    def _step_record_for(self, state: str, frame: StateView) -> StepRecord:
        key = step_key(state, frame.map_path)
        with self.lock:
            step = self.record.steps.get(key) or StepRecord(state=state, step="approve", map_path=frame.map_path)
            self.record.steps[key] = step
            return step



class _Stop:
    """What a Parallel's branches share: the first failure among them (and the Parallels
    around them), after which no unit of theirs starts."""

    def __init__(self, outer: _Stop | None = None) -> None:
        self.outer = outer
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    @property
    def stopped(self) -> bool:
        return self.error is not None or (self.outer is not None and self.outer.stopped)

    def record(self, error: BaseException) -> None:
        """Keep the first error; a failure outranks a return (the run fails)."""
        with self._lock:
            if self.error is None or (isinstance(error, RunFailedError) and isinstance(self.error, _Returned)):
                self.error = error
