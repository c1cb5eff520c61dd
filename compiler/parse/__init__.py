"""Workflow body (Python syntax tree) -> IR. See ``statements.py`` for the subset."""

from __future__ import annotations

import ast
import re
from typing import Any

from .. import typeinfo
from ..dsl.errors import CompileError
from ..dsl.params import PARAMS_MAX_BYTES, check_param_type
from ..dsl.workflows import WorkflowDef
from ..ir import Params, Workflow
from ..protocol import DEFAULT_INLINE_LIMIT, ENVELOPE_OVERHEAD, RESERVED_ROOT_KEYS
from ..protocol.carriers import codec_for_annotation
from .context import Scope, WorkflowContext, load_body, param_info
from .jsontypes import check_defaults
from .statements import BodyParser, Frame

__all__ = ["PARAMS_MAX_BYTES", "parse_workflow"]

_INPUT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*\Z")


def _params(wf: WorkflowDef[..., Any], ctx: WorkflowContext, scope: Scope, fn_node: ast.FunctionDef) -> Params:
    hints = wf.param_hints
    arg_nodes = {arg.arg: arg for arg in fn_node.args.args + fn_node.args.kwonlyargs}
    model_param = wf.model_param
    if model_param is not None:
        model = hints[model_param]
        names = typeinfo.field_names(model)
        annotations = {name: typeinfo.field_annotation(model, name) for name in names}
        scope.set(model_param, param_info((), model, wf.location, whole=True))
    else:
        names = tuple(hints)
        annotations = dict(hints)
        for name in names:
            from_result = name in wf.result_params
            if from_result:  # not JSON: a step result must carry it (a DataFrame, a model)
                carrier = codec_for_annotation(hints[name])
                arg = arg_nodes.get(name)
                written = ast.unparse(arg.annotation) if arg is not None and arg.annotation is not None else None
                check_param_type(wf.name, ctx.loc(arg) if arg is not None else wf.location, name,
                                 written or hints[name], carrier.problem if carrier.codec is None else None)
            scope.set(name, param_info((name,), hints[name], wf.location, stored=from_result))
    for name in names:
        if name in RESERVED_ROOT_KEYS or not _INPUT_NAME.match(name):
            where = ctx.loc(arg_nodes[name]) if name in arg_nodes else ctx.loc(fn_node)
            raise CompileError(
                f"workflow {wf.name!r} has an input field named {name!r}, which "
                + ("stepstone keeps for the run's own state" if name in RESERVED_ROOT_KEYS
                   else "is not a plain name (letters, digits and '_', starting with a letter)"),
                rule="bad-parameters", location=where,
                hint=f"rename it (for example to {name.strip('_') + '_value'!r})")
    defaults = check_defaults(wf, fn_node, wf.location)
    # a passed value is its caller's step envelope, which holds at most what a step's does
    passed = len(wf.result_params) * (DEFAULT_INLINE_LIMIT + ENVELOPE_OVERHEAD)
    return Params(names=tuple(names), annotations=annotations, model_param=model_param,
                  model=wf.params_model, max_bytes=PARAMS_MAX_BYTES + passed, defaults=defaults)


def parse_workflow(wf: WorkflowDef[..., Any]) -> Workflow:
    """The IR of ``wf``, or a CompileError at the first line outside the supported subset."""
    fn_node, file, lines = load_body(wf)
    ctx = WorkflowContext(wf=wf, file=file, source_lines=lines)
    ctx.note_assignments(fn_node)
    scope = Scope()
    params = _params(wf, ctx, scope, fn_node)
    parser = BodyParser(ctx)
    stmts = list(fn_node.body)
    doc = ""
    if stmts and isinstance(stmts[0], ast.Expr) and isinstance(stmts[0].value, ast.Constant) and isinstance(
        stmts[0].value.value, str
    ):
        doc = stmts[0].value.value
        stmts = stmts[1:]
    if not stmts:
        raise CompileError(f"workflow {wf.name!r} has an empty body", rule="empty-workflow", location=wf.location,
                           hint="call at least one step")
    builder = parser.block(stmts, scope, Frame())
    if not ctx.steps and not ctx.calls:
        raise CompileError(f"workflow {wf.name!r} calls no step", rule="empty-workflow", location=wf.location,
                           hint="call at least one @step function")
    options = wf.options
    return Workflow(
        name=wf.name,
        ref=wf.ref,
        location=wf.location,
        type=options.type,
        timeout=options.timeout,
        params=params,
        schedules=options.schedules,
        triggers=options.triggers,
        body=builder.build(),
        bindings=dict(ctx.bindings),
        steps=dict(ctx.steps),
        calls=tuple(dict.fromkeys(ctx.calls)),
        stores={key: mode for key, (mode, _, _) in parser.stores.items()},
        bounds=dict(parser.bounds),
        decorator=options.decorator,
        doc=doc,
    )
