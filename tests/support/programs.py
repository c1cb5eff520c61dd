"""Random workflows for property tests (hypothesis), each with its own oracle.

``programs()`` is a hypothesis strategy of :class:`Program`: a workflow module written in
stepstone's DSL, with data-flow DAGs whose independent calls become parallel branches,
``if``/``else`` on step outputs and parameters, ``try``/``except`` failure paths (the
caught error handed to a step, too), fan-outs over a list parameter, ``after=`` orderings,
retry policies (``Retry(on=[Flaky])`` and catch-all ``retry=k``), and the faults to inject
(``STEPSTONE_FAULTS``, lambdas/faults.py): transient ones a retry gets through or not,
permanent ones an ``except`` catches or the run dies of.

Every step has a name of its own (``s3``, ``s5a``, ``c7``), so a state name in the
execution history says which call of the program it is.

The oracle is the same body as plain Python: the module also holds ``reference(params,
call)``, the workflow's body with each step call going through ``call`` (see
:class:`Oracle`), which calls the undecorated function and plays the faults and retry
policies as Step Functions would (names, attempts, Catch). What it records is what a run
must do: which steps run, how many attempts each takes, what each waits for, the output.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

__all__ = ["Call", "Expected", "Oracle", "Program", "StepFailure", "injected_faults", "programs"]

HEADER = '''"""Generated workflow {name} (tests/support/programs.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from stepstone import Retry, step, workflow


class Params(BaseModel):
    threshold: int = 500
    flag: bool = True
    grid: Annotated[list[int], Field(max_length=5)] = [1, 2, 3]


class Out(BaseModel):
    score: int = 0
    ok: bool = True
    tag: str = ""


class Flaky(Exception):
    pass


def mix(k: int, *outs: Out) -> Out:
    score = (k * 37 + sum((i + 3) * o.score for i, o in enumerate(outs))) % 1000
    return Out(score=score, ok=score % 2 == 0, tag=f"s{{k}}")

'''

TRANSIENT_MRO = ("InjectedTransientFaultError", "TransientError")
PERMANENT_MRO = ("InjectedFaultError", "PermanentError")


@dataclass
class Call:
    """One step call: ``target = state(args..., after=[...])``."""

    state: str
    number: int  # the k of mix(k, ...): makes each step's output its own
    args: list[str]  # the Out values it takes
    target: str
    retry: tuple[str, int] | None = None  # ("flaky", attempts) | ("all", attempts)
    fault: tuple[str, int, str] | None = None  # ("transient", times, error) | ("permanent", 0, error)
    after: list[str] = field(default_factory=list)
    item: bool = False  # a fan-out's step: its first parameter is the item x
    error_arg: str | None = None  # a handler's step: its first parameter is the caught error
    collect_arg: str | None = None  # a fan-in step: its first parameter is the fan-out's list
    catches: tuple[str, ...] = ()  # the except names around it

    def decorator(self) -> str:
        if self.retry is None:
            return "@step"
        kind, attempts = self.retry
        if kind == "flaky":
            return f"@step(retry=Retry(attempts={attempts}, interval=1, backoff=2.0, on=[Flaky]))"
        return f"@step(retry={attempts})"

    def definition(self) -> str:
        params: list[str] = []
        values: list[str] = []
        if self.item:
            params.append("x: int")
            values.append("Out(score=x)")
        if self.error_arg is not None:
            params.append("error: Exception")
            values.append("Out(score=len(type(error).__name__))")
        if self.collect_arg is not None:
            params.append("xs: list[Out]")
            values.append("*xs")
        for index in range(len(self.args)):
            params.append(f"a{index}: Out")
            values.append(f"a{index}")
        return (f"{self.decorator()}\ndef {self.state}({', '.join(params)}) -> Out:\n"
                f"    return mix({', '.join([str(self.number), *values])})\n")

    def expression(self, reference: bool, item_var: str = "x") -> str:
        args = (([item_var] if self.item else []) + ([self.error_arg] if self.error_arg else [])
                + ([self.collect_arg] if self.collect_arg else []) + self.args)
        after = f", after=[{', '.join(self.after)}]" if self.after else ""
        if reference:
            extra = ", item=i" if self.item else ""
            return f"call({self.state!r}, {self.state}, {', '.join(args)}{after}{extra})"
        return f"{self.state}({', '.join(args)}{after})"

    @property
    def error_names(self) -> set[str]:
        """The names this state's payload lists (its Retry and Catch name them)."""
        names = set(self.catches)
        if self.retry is not None:
            names.add("Flaky" if self.retry[0] == "flaky" else "PermanentError")
        return names

    def fault_spec(self) -> str | None:
        if self.fault is None:
            return None
        kind, times, error = self.fault
        return f"{self.state}={kind}:{times}@{error}" if kind == "transient" else f"{self.state}={kind}@{error}"


@dataclass
class Program:
    name: str
    source: str
    calls: list[Call]
    params: dict[str, Any]

    @property
    def faults(self) -> str:
        return ",".join(spec for c in self.calls if (spec := c.fault_spec()))

    def call(self, state: str) -> Call:
        return next(c for c in self.calls if c.state == state)


@dataclass
class Expected:
    state: str
    item: int | None
    attempts: int
    deps: set[str]  # the states whose outputs (or after= targets) it waits for
    succeeded: bool


def outcome(call: Call) -> tuple[int, str | None]:
    """(attempts, the error the state fails with, or None when it succeeds), as Step
    Functions plays the call's fault against its Retry: the runner reports the first class
    of the exception's MRO that the payload's error names list (lambdas/runner.py)."""
    if call.fault is None:
        return 1, None
    kind, times, error = call.fault
    names = call.error_names
    chain = (error, *(TRANSIENT_MRO if kind == "transient" else PERMANENT_MRO))
    reported = next((n for n in chain if n in names), error)
    allowed = 1
    if call.retry is not None:
        matches = reported == "Flaky" if call.retry[0] == "flaky" else reported != "PermanentError"
        allowed = call.retry[1] if matches else 1
    if kind == "transient" and times < allowed:
        return times + 1, None
    return allowed, reported


def fails_uncaught(call: Call) -> bool:
    _, error = outcome(call)
    return error is not None and error not in call.catches


@contextlib.contextmanager
def injected_faults(spec: str) -> Iterator[None]:
    """STEPSTONE_FAULTS for the step runner in this process (the local target and moto run it
    here), as it was before afterwards."""
    from lambdas.faults import ENV

    before = os.environ.get(ENV)
    os.environ[ENV] = spec
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before


class StepFailure(Exception):
    """What the oracle raises for a step that fails: an exception named as Step Functions names it."""


class Oracle:
    """Runs ``reference(params, call)``: every step call goes through :meth:`__call__`."""

    def __init__(self, program: Program, module: Any) -> None:
        self.program = program
        self.module = module
        self.expected: list[Expected] = []
        self.producers: dict[int, str] = {}
        self._keep: list[Any] = []  # results stay alive, so their ids stay theirs

    def _deps(self, values: Sequence[Any]) -> set[str]:
        deps: set[str] = set()
        for value in values:
            if isinstance(value, list):
                deps |= self._deps(value)
            elif id(value) in self.producers:
                deps.add(self.producers[id(value)])
        return deps

    def __call__(self, state: str, step: Any, *args: Any, after: Sequence[Any] = (), item: int | None = None) -> Any:
        call = self.program.call(state)
        deps = self._deps([*args, *after])
        attempts, error = outcome(call)
        self.expected.append(Expected(state, item, attempts, deps, error is None))
        if error is not None:
            cls = self.module.Flaky if error == "Flaky" else type(error, (StepFailure,), {})
            raise cls(f"{state} failed")
        result = step.fn(*args)
        self.producers[id(result)] = state
        self._keep.append(result)
        return result

    def run(self) -> tuple[str | None, Any]:
        """(the run's error or None, its output as JSON)."""
        params = self.module.Params(**self.program.params)
        try:
            result = self.module.reference(params, self)
        except Exception as exc:
            return type(exc).__name__, None
        return None, result.model_dump(mode="json")


class _Builder:
    """Draws a program statement by statement; keeps both renderings in step."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self.draw = draw
        self.calls: list[Call] = []
        self.defs: list[str] = []
        self.body: list[str] = []
        self.ref: list[str] = []
        self.pool = ["v0"]
        self.number = 0
        # at most one call may fail the run: with two, which fails first is a race (both
        # may run at once), and Step Functions reports the first
        self.run_failure_drawn = False

    def _line(self, indent: int, workflow: str, reference: str | None = None) -> None:
        self.body.append("    " * indent + workflow)
        self.ref.append("    " * indent + (workflow if reference is None else reference))

    def new_call(self, state: str, args: list[str], target: str, *, catches: tuple[str, ...] = (),
                 may_fail: bool = True, **extra: Any) -> Call:
        self.number += 1
        draw = self.draw
        retry = draw(st.sampled_from([None, None, ("flaky", 2), ("flaky", 3), ("all", 2), ("all", 3)]))
        call = Call(state, self.number, args, target, retry=retry, catches=catches, **extra)
        roll = draw(st.integers(0, 9))
        if roll < 3:  # a transient fault: times below the attempts gets through, else it fails
            times = draw(st.integers(1, 3))
            if not may_fail:
                times = min(times, call.retry[1] - 1) if call.retry else 0
            if times > 0:
                call.fault = ("transient", times, "Flaky")
        elif roll < 5 and may_fail:
            call.fault = ("permanent", 0, draw(st.sampled_from(["Flaky", "Flaky", "Flaky", "Boom"])))
        if fails_uncaught(call):
            if self.run_failure_drawn:
                call.fault = None
            self.run_failure_drawn = True
        self.calls.append(call)
        self.defs.append(call.definition())
        return call

    def args(self, low: int = 1, high: int = 3) -> list[str]:
        count = self.draw(st.integers(low, high))
        recent = self.pool[-6:]
        return [self.draw(st.sampled_from(recent)) for _ in range(count)]

    def assign(self, call: Call, indent: int) -> None:
        self._line(indent, f"{call.target} = {call.expression(False)}", f"{call.target} = {call.expression(True)}")

    def chain(self, prefix: str, target: str, indent: int, catches: tuple[str, ...], length: int,
              may_fail: bool) -> None:
        """``length`` calls, each on the last one's output, the last assigning ``target``."""
        previous: str | None = None
        for index in range(length):
            name = target if index == length - 1 else f"{prefix}_t{index}"
            args = [previous] if previous else self.args(1, 2)
            call = self.new_call(f"{prefix}{'abcdefgh'[index]}", args, name, catches=catches, may_fail=may_fail)
            self.assign(call, indent)
            previous = name

    def condition(self) -> str:
        v = self.draw(st.sampled_from(self.pool[-5:]))
        w = self.draw(st.sampled_from(self.pool[-5:]))
        return self.draw(st.sampled_from([
            f"{v}.score > params.threshold", f"{v}.ok", f"not {v}.ok", "params.flag",
            f"{v}.score <= 400 and {w}.ok", f"{v}.score >= params.threshold or not params.flag",
            f"{v}.tag == 's{self.number % 5}'",
        ]))

    def statement(self, index: int) -> None:
        target = f"v{index}"
        kind = self.draw(st.sampled_from(["call", "call", "call", "if", "if", "try", "fanout"]))
        # a failure outside a try fails the run; keep those rare, so most runs finish
        top_may_fail = self.draw(st.integers(0, 9)) == 0
        if kind == "call":
            after: list[str] = []
            if self.draw(st.integers(0, 5)) == 0 and len(self.pool) > 2:
                after = [self.draw(st.sampled_from(self.pool[:-1]))]
            call = self.new_call(f"s{index}", self.args(), target, after=after, may_fail=top_may_fail)
            self.assign(call, 1)
        elif kind == "if":
            test = self.condition()
            if self.draw(st.booleans()):
                self._line(1, f"if {test}:")
                self.chain(f"s{index}", target, 2, (), self.draw(st.integers(1, 2)), top_may_fail)
                self._line(1, "else:")
                self.chain(f"e{index}", target, 2, (), self.draw(st.integers(1, 2)), top_may_fail)
            else:  # assigned before, changed on one path only: the other path keeps it
                self.chain(f"p{index}", target, 1, (), 1, top_may_fail)
                self._line(1, f"if {test}:")
                self.chain(f"s{index}", target, 2, (), 1, top_may_fail)
        elif kind == "try":
            self._line(1, "try:")
            self.chain(f"s{index}", target, 2, ("Flaky",), self.draw(st.integers(1, 2)), True)
            if self.draw(st.booleans()):
                self._line(1, "except Flaky as err:")
                call = self.new_call(f"h{index}", self.args(1, 1), target, error_arg="err", may_fail=top_may_fail)
                self.assign(call, 2)
            else:
                self._line(1, "except Flaky:")
                call = self.new_call(f"h{index}", self.args(1, 2), target, may_fail=top_may_fail)
                self.assign(call, 2)
        else:
            (outer,) = self.args(1, 1)
            leaf = self.new_call(f"s{index}", [outer], f"{target}_all", item=True, may_fail=False)
            self._line(1, f"{target}_all = [{leaf.expression(False)} for x in params.grid]",
                       f"{target}_all = [{leaf.expression(True)} for i, x in enumerate(params.grid)]")
            collect = self.new_call(f"c{index}", [], target, collect_arg=f"{target}_all", may_fail=top_may_fail)
            self.assign(collect, 1)
        self.pool.append(target)


@st.composite
def programs(draw: Callable[[st.SearchStrategy[Any]], Any], *, min_statements: int = 2,
             max_statements: int = 9) -> Program:
    """A random workflow module, its calls, and parameters to run it with."""
    builder = _Builder(draw)
    builder.calls.append(Call("s0", 0, [], "v0"))  # the start: takes the parameters
    builder.defs.append("@step\ndef s0(p: Params) -> Out:\n"
                        "    return mix(0, Out(score=p.threshold), Out(score=len(p.grid)))\n")
    builder._line(1, "v0 = s0(params)", "v0 = call('s0', s0, params)")
    for index in range(1, draw(st.integers(min_statements, max_statements)) + 1):
        builder.statement(index)
    builder._line(1, f"return {builder.pool[-1]}")
    name = f"gen_{uuid.uuid4().hex[:10]}"
    source = (HEADER.format(name=name) + "\n\n".join(builder.defs) + "\n\n"
              + "@workflow\ndef " + name + "(params: Params) -> Out:\n" + "\n".join(builder.body) + "\n\n\n"
              + "def reference(params: Params, call: Any) -> Out:\n" + "\n".join(builder.ref) + "\n")
    source = source.replace("from typing import Annotated", "from typing import Annotated, Any")
    params = {"threshold": draw(st.integers(0, 999)), "flag": draw(st.booleans()),
              "grid": draw(st.lists(st.integers(0, 50), max_size=4))}
    return Program(name, source, builder.calls, params)
