"""Each state's Comment: where in the workflow file it comes from and what is written there,
``examples/etl_s3.py:168  raw = download(bucket, key)``, so a console user finds the line.

The path is the workflow module's own (``examples.etl_s3`` is ``examples/etl_s3.py``),
never where the file lies on this machine, so a definition does not change from one
checkout to another. A statement that spans lines is shown on one; a compound statement
(``if``, ``for``, ``def``) by its first line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path, PurePath

from ..dsl.errors import Location
from ..ir import Workflow
from ..plan import all_nodes
from .states import MapState, ParallelState, StateMachine

__all__ = ["SourceComments", "module_path"]


TEXT_LIMIT = 160  # characters of source in one Comment


def module_path(file: str, ref: str) -> str:
    """``file`` as the module in ``ref`` (``package.module:name``) names it: ``package/module.py``."""
    parts = ref.partition(":")[0].split(".")
    posix = PurePath(file).as_posix()
    for candidate in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
        if posix == candidate or posix.endswith("/" + candidate):
            return candidate
    return PurePath(file).name


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TEXT_LIMIT else line[: TEXT_LIMIT - 3] + "..."


class SourceComments:
    """The Comments of one workflow's states, from its source file."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.path = module_path(workflow.location.file, workflow.ref)
        self.lines: list[str] = []
        self.statements: dict[int, ast.stmt] = {}
        self.function: ast.FunctionDef | None = None
        try:
            text = Path(workflow.location.file).read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (OSError, SyntaxError, ValueError):
            return
        self.lines = text.splitlines()
        for node in ast.walk(tree):  # outer statements first: a line's statement is the outermost starting there
            if isinstance(node, ast.stmt):
                self.statements.setdefault(node.lineno, node)
        defined = self.statements.get(workflow.location.line)
        if isinstance(defined, ast.FunctionDef):
            self.function = defined

    def text(self, line: int) -> str:
        """The statement that starts at ``line``, as written, on one line."""
        node = self.statements.get(line)
        if node is None:
            return _one_line(self.lines[line - 1]) if 0 < line <= len(self.lines) else ""
        if isinstance(node, (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            return self._header(node)
        return _one_line(self._segment(node))

    def _header(self, node: ast.stmt) -> str:
        """A compound statement's first line (a ``def`` up to its colon, however many lines its parameters take)."""
        if isinstance(node, ast.FunctionDef):
            body = node.body[0].lineno if node.body else node.lineno
            header = "\n".join(self.lines[node.lineno - 1:body - 1]) or self.lines[node.lineno - 1]
            return _one_line(header)
        return _one_line(self.lines[node.lineno - 1])

    def _segment(self, node: ast.AST) -> str:
        """``node`` as written (``ast.unparse`` would requote its strings)."""
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        if first == last:
            return str(self.lines[first][start:end])
        return "\n".join([self.lines[first][start:], *self.lines[first + 1:last], self.lines[last][:end]])

    def at(self, location: Location) -> str:
        return f"{self.path}:{location.line}  {self.text(location.line)}".rstrip()

    def side_by_side(self, locations: Iterable[Location]) -> str:
        """A Parallel state's: the first line of each branch, and what is written there."""
        found = list(dict.fromkeys(location.line for location in locations))
        texts = " | ".join(self.text(line) for line in found)
        if len(texts) > TEXT_LIMIT:
            texts = texts[: TEXT_LIMIT - 3] + "..."
        return f"{self.path}:{', '.join(str(line) for line in found)}  side by side: {texts}"

    def workflow_end(self) -> str:
        return f"{self.at(self.workflow.location)}  (the run ends here)"

    def parameter(self, name: str | None) -> str:
        """A first state's: the parameter as declared (``key: str = "sales/..."``), or the whole ``def``."""
        if name is not None and self.function is not None:
            args = self.function.args
            positional = args.posonlyargs + args.args
            defaults = dict(zip([a.arg for a in positional[len(positional) - len(args.defaults):]], args.defaults,
                                strict=True))
            defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d})
            for arg in positional + args.kwonlyargs:
                if arg.arg == name:
                    written = self._segment(arg) + (f" = {self._segment(defaults[name])}" if name in defaults else "")
                    return f"{self.path}:{arg.lineno}  {_one_line(written)}"
        return self.at(self.workflow.location)

    def annotate(self, machine: StateMachine) -> None:
        """Give every state of ``machine`` that has none its Comment: a state made for a node
        of the body that node's line; one the layout adds (the end of a branch or an item) that
        of the Parallel or Map it is in; the run's own end the ``def`` line."""
        where = {node.name: node.location for node in all_nodes(self.workflow.body)}
        self._annotate(machine, where, self.workflow_end())

    def _annotate(self, machine: StateMachine, where: dict[str, Location], around: str) -> None:
        for state in machine.states.values():
            if state.comment is None:
                location = where.get(state.name)
                state.comment = self.at(location) if location is not None else around
            if isinstance(state, ParallelState):
                for branch in state.branches:
                    self._annotate(branch, where, state.comment)
            elif isinstance(state, MapState) and state.processor is not None:
                self._annotate(state.processor, where, state.comment)
