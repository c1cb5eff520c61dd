"""Every rule the compiler can raise is documented in ``compiler/rules.py``, and only those.

The rule names are read from the compiler's source with ``ast``: every ``rule=`` keyword of
a call in ``compiler/``. Most are literal strings; a helper that takes the rule as a
parameter (``_check_params(..., "schedule-params")``) is followed to its callers, and
``rule=error.rule`` passes on a rule that was named where the error was made. Anything else
fails here, so a new way of naming rules cannot hide one from the catalogue.

The catalogue's rules that no bad workflow in ``tests/invalid/workflows/`` can trigger
name a test below (``covered_by``) that does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

import compiler.pipeline
from compiler import CompileError, compile_workflow
from compiler.rules import CATALOGUE, TOPICS
from stepstone import step, workflow

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "invalid" / "workflows"
EXPECT_RULE = re.compile(r"^# expect-rule: (.+)$", re.MULTILINE)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.FunctionDef | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef):
            return node
    return None


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


class RuleNames:
    """The rule names that ``compiler/``'s source passes as ``rule=``, with where each is named."""

    def __init__(self, root: Path) -> None:
        self.trees = {path: ast.parse(path.read_text(encoding="utf-8"))
                      for path in sorted((root / "compiler").rglob("*.py"))}
        self.calls = [(path, node) for path, tree in self.trees.items() for node in ast.walk(tree)
                      if isinstance(node, ast.Call)]
        self.found: dict[str, list[str]] = {}
        self.unresolved: list[str] = []
        for path, tree in self.trees.items():
            parents = _parents(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "rule":
                            self._value(path, keyword.value, parents)

    def _where(self, path: Path, node: ast.AST) -> str:
        return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"

    def _value(self, path: Path, value: ast.expr, parents: dict[ast.AST, ast.AST]) -> None:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            self.found.setdefault(value.value, []).append(self._where(path, value))
        elif isinstance(value, ast.Attribute) and value.attr == "rule":
            pass  # ``rule=error.rule``: an error made elsewhere, moved to another location
        elif isinstance(value, ast.Name) and (function := _enclosing_function(value, parents)) is not None \
                and value.id in {a.arg for a in (*function.args.posonlyargs, *function.args.args,
                                                 *function.args.kwonlyargs)}:
            self._callers(function, value.id)
        else:
            self.unresolved.append(f"{self._where(path, value)}: rule={ast.unparse(value)}")

    def _callers(self, function: ast.FunctionDef, param: str) -> None:
        """What the calls of ``function`` pass for its parameter ``param``."""
        positional = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        for path, call in self.calls:
            if _called_name(call) != function.name:
                continue
            if any(k.arg == param for k in call.keywords):
                continue  # a keyword ``rule=``: read where every call's keywords are read
            if param in positional:
                index = positional.index(param)
                if positional and positional[0] in ("self", "cls") and isinstance(call.func, ast.Attribute):
                    index -= 1
                if index < len(call.args):
                    parents = _parents(self.trees[path])
                    self._value(path, call.args[index], parents)

    def names(self) -> set[str]:
        return set(self.found)


@pytest.fixture(scope="module")
def used() -> RuleNames:
    return RuleNames(ROOT)


def invalid_workflow_rules() -> dict[str, list[str]]:
    rules: dict[str, list[str]] = {}
    for path in sorted(INVALID.glob("*.py")):
        match = EXPECT_RULE.search(path.read_text(encoding="utf-8"))
        assert match, f"{path.name} has no expect-rule header"
        rules.setdefault(match.group(1).strip(), []).append(path.name)
    return rules


def test_every_rule_name_is_read(used: RuleNames) -> None:
    assert not used.unresolved, ("rule= values this test cannot follow to a name: pass a literal, or a parameter "
                                 "that callers fill with literals:\n  " + "\n  ".join(used.unresolved))
    assert "schedule-params" in used.names(), "the rules passed through a helper's parameter are found too"


def test_every_rule_the_compiler_raises_is_in_the_catalogue(used: RuleNames) -> None:
    missing = {name: where for name, where in used.found.items() if name not in CATALOGUE}
    assert not missing, ("document these rules in compiler/rules.py (what each means and what to do): "
                         + ", ".join(f"{name} ({where[0]})" for name, where in sorted(missing.items())))


def test_every_catalogue_entry_is_raised_somewhere(used: RuleNames) -> None:
    unused = sorted(set(CATALOGUE) - used.names())
    assert not unused, f"compiler/rules.py documents rules the compiler never raises: {', '.join(unused)}"


def test_entries_are_complete() -> None:
    for name, doc in CATALOGUE.items():
        assert doc.name == name
        assert doc.topic in TOPICS
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name
        for text in (doc.summary, doc.explanation, doc.fix):
            assert text.strip() and text.rstrip().endswith((".", ")", "`")), f"{name}: {text!r}"


def test_every_rule_is_shown_by_a_bad_workflow_or_names_its_test() -> None:
    shown = invalid_workflow_rules()
    assert set(shown) <= set(CATALOGUE), f"tests/invalid expects unknown rules: {set(shown) - set(CATALOGUE)}"
    tests = {node.name for node in ast.parse(Path(__file__).read_text(encoding="utf-8")).body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    for name, doc in CATALOGUE.items():
        if doc.covered_by is None:
            assert name in shown, (f"no bad workflow in tests/invalid/workflows/ triggers {name}: add one, or, if "
                                   "no workflow file can, a test here named in the rule's covered_by")
            continue
        assert name not in shown, f"{name} has a bad workflow now: drop its covered_by"
        file, _, test = doc.covered_by.partition("::")
        assert (ROOT / file).resolve() == Path(__file__).resolve() and test in tests, doc.covered_by


# --- the rules no workflow file in tests/invalid/ can trigger -----------------------------------------------------


@step
def hello(name: str) -> str:
    return f"hello {name}"


@workflow
def greet(name: str) -> str:
    return hello(name)


def _first_error(workflows: list[Any]) -> CompileError:
    with pytest.raises(CompileError) as caught:
        for definition in workflows:
            compile_workflow(definition)
    return caught.value


def test_a_definition_over_the_limit_is_definition_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # a real definition over 1 MiB needs thousands of states; the check is the same with a lower limit
    monkeypatch.setattr(compiler.pipeline, "DEFINITION_LIMIT", 200)
    error = _first_error([greet])
    assert error.rule == "definition-size"
    assert error.location is not None and error.location.file == __file__
    assert error.hint and "nested workflows" in error.hint


def test_a_workflow_without_source_is_no_source() -> None:
    # a workflow file always has source: only a function made by exec() (or typed at a prompt) has none
    namespace: dict[str, Any] = {"__name__": "generated", "hello": hello, "workflow": workflow}
    exec(compile("@workflow\ndef generated(name: str) -> str:\n    return hello(name)\n", "<generated>", "exec"),
         namespace)
    error = _first_error([namespace["generated"]])
    assert error.rule == "no-source"
    assert error.hint and ".py file" in error.hint
