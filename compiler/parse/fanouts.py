"""Fan-out: ``for`` loops, list comprehensions and ``stepstone.map`` -> a Map.

The list's declared size picks the Map's mode. A list known to hold at most
``INLINE_MAX_ITEMS`` items (a literal, ``Field(max_length=...)``, ``max_items=``) runs as an
INLINE Map inside the run, its results collected in the state. Any other list runs as a
DISTRIBUTED Map: items read from S3 (or from the input), each item a child run, results
written to S3, so neither the list nor the results ever pass through the 256 KiB state.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .. import typeinfo
from ..dsl.steps import StepDef
from ..ir import BindingKind, BindingRef, FanOut, LiteralValue, ParamRef, Value
from ..protocol import StoreMode
from .blocks import BlockBuilder
from .calls import value_keys
from .context import Scope, Unset, VarInfo, state_name_from_source
from .syntax import Frame, LoopFrame, appended, appends
from .values import read_value, resolve_global

if TYPE_CHECKING:
    from .statements import BodyParser

__all__ = ["INLINE_MAX_ITEMS", "FanOutParser"]

INLINE_MAX_ITEMS = 100
"""Lists declared to hold at most this many items fan out inside the run (an inline Map)."""

Mode = Literal["inline", "distributed"]


@dataclass(frozen=True)
class _Items:
    info: VarInfo
    item_kind: BindingKind
    item_annotation: Any
    bound: int | None
    mode: Mode
    why: str
    copy_unit: int | None = None  # the Pass that puts a literal list in the state


class FanOutParser:
    def __init__(self, body: BodyParser) -> None:
        self.body = body
        self.ctx = body.ctx

    # --- the list --------------------------------------------------------------------------

    def _items(self, node: ast.expr, target: str, scope: Scope, builder: BlockBuilder, *,
               max_items: int | None) -> _Items:
        ctx = self.ctx
        text = ast.unparse(node)
        if isinstance(node, ast.Call):
            info = self.body.calls.call(node, scope, builder, var=None, key=None)
            assert info is not None
        else:
            info = read_value(ctx, scope, node, what="a fan-out")
        if info.kind == "literal":
            assert isinstance(info.value, LiteralValue)
            items = info.value.value
            if not isinstance(items, list) or not items:
                ctx.fail(node, f"a fan-out needs a non-empty list, got {text[:50]}", rule="bad-fan-out")
            element_types = {type(item) for item in items}
            annotation = element_types.pop() if len(element_types) == 1 else Any
            info = self.body.copy(builder, info, ctx.new_key(f"{target}_values"), f"{target}_values", node)
            return _Items(info, BindingKind.RAW, annotation, len(items), "inline",
                          f"the list is a literal of {len(items)} items", copy_unit=len(builder.units) - 1)
        if info.kind == "deferred":
            ctx.fail(node, f"{text} is an AWS Batch step's output, which Step Functions cannot read to fan out "
                     "over", rule="bad-fan-out", hint="return the list from a Lambda step and fan out over that")
        if info.kind == "results":
            assert isinstance(info.value, BindingRef)
            bound = self.body.bounds.get(info.value.key)
            return _Items(info, BindingKind.RESULT, typeinfo.element_type(info.annotation), bound, "inline",
                          "it goes over the results of an earlier inline fan-out")
        annotation = info.annotation
        stripped = typeinfo.strip(annotation)
        if stripped is not Any and not typeinfo.is_list(annotation):
            ctx.fail(node, f"{text} is a {getattr(stripped, '__name__', stripped)}, not a list, so it cannot be "
                     "fanned out over", rule="bad-fan-out", hint="fan out over a list-typed value")
        if isinstance(info.value, ParamRef) and info.value.stored:
            ctx.fail(node, f"{text} is a value the calling workflow passed, which this workflow holds by reference",
                     rule="bad-fan-out", hint="pass it to a step that returns the list to fan out over")
        if isinstance(info.value, BindingRef) and ctx.bindings[info.value.key].manifest:
            ctx.fail(node, f"{text} holds the results of a distributed fan-out, which live in S3",
                     rule="bad-fan-out", hint="pass them to a step that returns the list to fan out over")
        declared = typeinfo.list_bound(annotation)
        bound = max_items if max_items is not None else declared
        source = f"max_items={max_items}" if max_items is not None else (
            f"{text} is declared with max_length={declared}" if declared is not None else None)
        whole_result = info.kind == "result" and isinstance(info.value, BindingRef) and not info.value.path
        if bound is not None and bound <= INLINE_MAX_ITEMS:
            mode: Mode = "inline"
            why = f"{source} (at most {INLINE_MAX_ITEMS} items fan out inline)"
        else:
            mode = "distributed"
            why = (f"{source}, over the inline limit of {INLINE_MAX_ITEMS}" if source else
                   f"the size of {text} is not declared (declare it with Field(max_length=N) or max_items=N "
                   f"to fan out inline when N <= {INLINE_MAX_ITEMS})")
            if info.kind == "result" and not whole_result:
                ctx.fail(node, f"{text} is a field of a step result and its size is not declared, so stepstone "
                         "cannot keep it in the run's state", rule="bad-fan-out",
                         hint=f"declare its size with Field(max_length=N), N <= {INLINE_MAX_ITEMS}, or return "
                              "the list itself from a step")
        if info.kind == "result":
            assert isinstance(info.value, BindingRef)
            store: StoreMode = "inline" if mode == "inline" else "always"
            self.body.require_store(info.value.key, store, node,
                                    why="an inline fan-out reads the list from the state" if mode == "inline"
                                    else "a distributed fan-out reads the list from S3")
        return _Items(info, BindingKind.RAW, typeinfo.element_type(annotation), bound, mode, why)

    # --- the common part -------------------------------------------------------------------

    def fanout(self, node: ast.AST, *, label: str, target: str, items_node: ast.expr, scope: Scope,
               builder: BlockBuilder, var: str | None, key: str | None,
               max_items: int | None, max_concurrency: int,
               body: Callable[[Scope, BlockBuilder, Frame], VarInfo | None],
               accumulator: str | None = None) -> VarInfo | None:

        ctx = self.ctx
        items = self._items(items_node, target, scope, builder, max_items=max_items)
        child_scope = scope.copy()
        item_key = ctx.new_key(target)
        item_binding = ctx.bind(item_key, target, items.item_kind, items.item_annotation, ctx.loc(items_node))
        child_scope.set(target, ctx.var_info(item_binding))
        child = BlockBuilder()
        loop_frame = LoopFrame(accumulator=accumulator)
        result = body(child_scope, child, Frame(loop=loop_frame))
        if accumulator is not None:
            child_scope.names.pop(appended(accumulator), None)
        if not any(True for _ in child.units):
            ctx.fail(node, "the fan-out calls no step for its items", rule="bad-fan-out",
                     hint="call a step for each item, e.g. [train(p) for p in grid]")
        result_value: Value | None = None
        binding_key: str | None = None
        if result is not None:
            if result.kind not in ("result", "deferred") or not isinstance(result.value, BindingRef) \
                    or result.value.path or result.value.key not in child.defined:
                ctx.fail(node, "a fan-out can collect only the result of a step it calls for the item",
                         rule="bad-fan-out", hint="collect the step's whole result: results.append(step(item))")
            result_value = result.value
            binding_key = key or ctx.new_key(var or f"{target}_results")
            annotation = list[result.annotation] if result.annotation is not Any else list[Any]  # type: ignore
            if items.mode == "inline":
                ctx.bind(binding_key, var or "results", BindingKind.RESULTS, annotation, ctx.loc(node))
                if items.bound is not None:
                    self.body.bounds[binding_key] = items.bound
            else:
                ctx.bind(binding_key, var or "results", BindingKind.RESULT, annotation, ctx.loc(node), manifest=True)
        name = ctx.state_name(state_name_from_source(label)[:70])
        fan = FanOut(name=name, items=items.info.value, item=item_key, body=child.build(), result=result_value,
                     binding=binding_key, mode=items.mode, max_items=items.bound, max_concurrency=max_concurrency,
                     location=ctx.loc(node), why=items.why)
        reads = value_keys(items.info.value) | (child.free_reads - {item_key})
        index = builder.add(fan, reads=frozenset(reads),
                            writes=frozenset({binding_key}) if binding_key else frozenset(),
                            defines=frozenset(child.defined | {item_key}))
        if items.copy_unit is not None:
            # the literal list is put in place right before the fan-out, not as early as possible
            builder.deps[items.copy_unit] = builder.deps[index] - {items.copy_unit}
        for var_name, info in child_scope.names.items():
            if var_name != target and scope.names.get(var_name) is not info and var_name != accumulator:
                scope.set(var_name, Unset(
                    why=f"is assigned inside the fan-out at line {getattr(node, 'lineno', '?')}; each item has its "
                        "own value", location=ctx.loc(node),
                    hint="collect per-item results with results.append(...) and use the list"))
        if binding_key is None:
            return None
        return ctx.var_info(ctx.bindings[binding_key])

    # --- the three forms -------------------------------------------------------------------

    def for_loop(self, stmt: ast.For, scope: Scope, builder: BlockBuilder, frame: Frame,
                 hints: dict[str, str]) -> None:
        ctx = self.ctx
        if not isinstance(stmt.target, ast.Name):
            ctx.fail(stmt.target, "loop over one name at a time: for item in items", rule="unsupported-statement",
                     hint="loop over a list of models and read their fields")
        if stmt.orelse:
            ctx.fail(stmt.orelse[0], "for/else is not supported", rule="unsupported-statement",
                     hint="put these lines after the loop")
        found = appends(stmt.body)
        accumulator: str | None = None
        if found:
            accumulator, first = found[0]
            for other, other_stmt in found[1:]:
                if other != accumulator:
                    ctx.fail(other_stmt, f"this loop collects into {accumulator} and {other}; a fan-out collects "
                             "one list", rule="bad-fan-out",
                             hint=f"append to {accumulator} only, and split the values in a later step")
            initial = scope.get(accumulator)
            if not (isinstance(initial, VarInfo) and isinstance(initial.value, LiteralValue)
                    and initial.value.value == []):
                ctx.fail(first, f"{accumulator}.append(...): {accumulator} must be an empty list made right "
                         "before the loop", rule="bad-fan-out", hint=f"write {accumulator} = [] before the for")
        target = stmt.target.id

        def body(child_scope: Scope, child: BlockBuilder, child_frame: Frame) -> VarInfo | None:
            self.body.block_into(stmt.body, child_scope, child, child_frame, hints={})
            if child.returns:
                ctx.fail(stmt, "every path of this loop body ends with raise", rule="bad-fan-out",
                         hint="raise on some paths only, and append a result on the others")
            if accumulator is None:
                return None
            result = child_scope.get(appended(accumulator))
            if isinstance(result, Unset):
                ctx.fail(first, f"{accumulator}.append(...) runs on some paths of the loop body only",
                         rule="bad-fan-out",
                         hint="append exactly one result on every path through the body (or raise on the others)")
            return result if isinstance(result, VarInfo) else None

        label = f"for {target} in {ast.unparse(stmt.iter)}"
        result = self.fanout(stmt, label=label, target=target, items_node=stmt.iter, scope=scope, builder=builder,
                             var=accumulator, key=hints.get(accumulator) if accumulator else None,
                             max_items=None, max_concurrency=0, body=body, accumulator=accumulator)
        if accumulator is not None:
            if result is None:
                ctx.fail(stmt, f"{accumulator} collects nothing", rule="bad-fan-out")
            scope.set(accumulator, result)

    def append(self, stmt: ast.Expr, call: ast.Call, scope: Scope, builder: BlockBuilder, frame: Frame,
               hints: dict[str, str]) -> None:
        ctx = self.ctx
        assert isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
        name = call.func.value.id
        loop = frame.loop
        if loop is None or loop.accumulator != name:
            ctx.fail(stmt, f"{name}.append(...) changes a list in place, which a workflow cannot do",
                     rule="unsupported-statement",
                     hint="collect results in a for loop: results = [] then for x in xs: results.append(step(x))")
        if call.keywords or len(call.args) != 1:
            ctx.fail(stmt, f"{name}.append(...) takes one value", rule="bad-fan-out")
        hidden = appended(name)
        if isinstance(scope.get(hidden), VarInfo):
            ctx.fail(stmt, f"{name}.append(...) runs twice on one path of the loop body", rule="bad-fan-out",
                     hint="append one result per item; collect more values in one step's result")
        arg = call.args[0]
        key = hints.get(hidden)
        if isinstance(arg, ast.Call):
            called = self.body.calls.call(arg, scope, builder, var=None, key=key)
            if called is None:
                ctx.fail(arg, "this call returns nothing to append", rule="bad-fan-out")
            info = called
        else:
            info = self.body.calls.argument(arg, scope, builder, what="append")
        if key is not None and not (isinstance(info.value, BindingRef) and info.value.key == key
                                    and not info.value.path):
            info = self.body.copy(builder, info, key, name, arg)
        scope.set(hidden, info)

    def comprehension(self, node: ast.ListComp, scope: Scope, builder: BlockBuilder, *, var: str | None,
                      key: str | None) -> VarInfo | None:
        ctx = self.ctx
        if len(node.generators) != 1:
            ctx.fail(node, "a fan-out comprehension may have one `for`", rule="bad-fan-out",
                     hint="nest the inner fan-out in a step or a for loop body")
        gen = node.generators[0]
        if gen.ifs:
            ctx.fail(gen.ifs[0], "filters (`if`) in a fan-out comprehension are not supported", rule="bad-fan-out",
                     hint="filter the list in a step, or put an if in a for loop body")
        if gen.is_async or not isinstance(gen.target, ast.Name):
            ctx.fail(gen.target, "loop over one name: [step(x) for x in items]", rule="bad-fan-out")
        target = gen.target.id
        if not isinstance(node.elt, ast.Call):
            ctx.fail(node.elt, "a fan-out comprehension must call a step for each item: [step(x) for x in items]",
                     rule="bad-fan-out")

        def body(child_scope: Scope, child: BlockBuilder, child_frame: Frame) -> VarInfo | None:
            return self.body.calls.call(node.elt, child_scope, child, var=None, key=None)  # type: ignore[arg-type]

        label = f"for {target} in {ast.unparse(gen.iter)}"
        return self.fanout(node, label=label, target=target, items_node=gen.iter, scope=scope, builder=builder,
                           var=var, key=key, max_items=None, max_concurrency=0, body=body)

    def map_call(self, node: ast.Call, scope: Scope, builder: BlockBuilder, *, var: str | None,
                 key: str | None) -> VarInfo | None:
        ctx = self.ctx
        if len(node.args) != 2:
            ctx.fail(node, "stepstone.map takes a step and a list: stepstone.map(train, grid, max_concurrency=4)",
                     rule="bad-map", hint="pass the step itself (not a call) and the list of items; "
                                          "other arguments of the step go as keywords")
        step = resolve_global(ctx, node.args[0])
        if not isinstance(step, StepDef):
            ctx.fail(node.args[0], f"stepstone.map's first argument must be a @step, got {ast.unparse(node.args[0])}",
                     rule="bad-map", hint="decorate the function with @step, or pass the step itself, not a call of it")
        options: dict[str, int] = {}
        per_call: list[ast.keyword] = []
        for kw in node.keywords:
            if kw.arg in ("max_concurrency", "max_items"):
                if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, int)
                        and not isinstance(kw.value.value, bool) and kw.value.value >= 0):
                    ctx.fail(kw.value, f"{kw.arg}= must be a literal whole number", rule="bad-map",
                             hint=f"write the number in the call ({kw.arg}=4): the compiler sizes the Map from it")
                options[kw.arg] = kw.value.value
            else:
                per_call.append(kw)
        if options.get("max_items") == 0:
            ctx.fail(node, "max_items=0 leaves nothing to fan out over", rule="bad-map",
                     hint="give the largest number of items the list can hold, or leave max_items out")
        first_param = next(iter(step.signature.parameters), None)
        if first_param is None:
            ctx.fail(node, f"{step.name} takes no arguments, so it cannot take an item", rule="bad-map",
                     hint=f"give {step.name} a first parameter for the item")
        try:
            step.signature.bind(0, **{kw.arg: 0 for kw in per_call if kw.arg})
        except TypeError as exc:
            ctx.fail(node, f"stepstone.map({step.name}, ...): {exc}", rule="wrong-arguments",
                     hint=f"the item goes to {first_param!r}; the signature is {step.name}{step.signature}")
        kw_values = [(kw.arg, self.body.calls.argument(kw.value, scope, builder, what=f"{kw.arg}="), kw.value)
                     for kw in per_call if kw.arg]
        target = "item"

        def body(child_scope: Scope, child: BlockBuilder, child_frame: Frame) -> VarInfo | None:
            item = child_scope.get(target)
            assert isinstance(item, VarInfo) and first_param is not None
            matched = [(first_param, item, node.args[1]), *kw_values]
            return self.body.calls.step_call(node, step, child_scope, child, var=None, key=None,
                                             extra=matched)

        label = f"map {step.name} over {ast.unparse(node.args[1])}"
        return self.fanout(node, label=label, target=target, items_node=node.args[1], scope=scope, builder=builder,
                           var=var, key=key, max_items=options.get("max_items"),
                           max_concurrency=options.get("max_concurrency", 0), body=body)

