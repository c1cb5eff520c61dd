"""The project's structure, checked from its source (``ast``, nothing imported).

Each rule is one of ``docs/ARCHITECTURE.md``'s:

- imports go one way: the DSL (``compiler/dsl``) and the protocol (``compiler/protocol``)
  import nothing of ours outside themselves; the compiler's passes import the compiler
  only; the runtime (``lambdas/``) imports only itself, the DSL and the protocol; ``cdk/``
  imports the compiler and itself; the package fronts (``compiler/__init__``,
  ``stepstone/__init__``) import only what a workflow file needs; inside ``stepstone/``,
  the engine, the targets and the LocalStack code never import the command line;
- no import cycle between files (imports needed only for typing, under ``TYPE_CHECKING``,
  do not count);
- no module over 500 lines;
- no private name (``_x``) imported from another module;
- every exception class is defined in an ``errors.py`` (private control-flow signals
  aside), and a public one's name ends in ``Error``.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("compiler", "lambdas", "stepstone", "cdk", "benchmarks", "examples")
MAX_LINES = 500
PLUGIN = "stepstone.localstack.plugin"  # installed into LocalStack's own environment: imports nothing of ours


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (ours), as far as it resolves
    line: int
    typing_only: bool  # under `if TYPE_CHECKING:`
    names: tuple[str, ...]  # names imported from it


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not any(part.startswith(".") or part in ("__pycache__", "node_modules") for part in path.parts):
                files.append(path)
    return files


MODULES = {module_name(path): path for path in source_files()}


def _resolve(name: str) -> str | None:
    """The module of ours that ``name`` (a module, or a name inside one) stands for."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str) -> Iterator[Import]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, typing_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for inner in child.body:
                    yield from visit_one(inner, True)
                for inner in child.orelse:
                    yield from visit_one(inner, typing_only)
            else:
                yield from visit_one(child, typing_only)

    def visit_one(node: ast.AST, typing_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target:
                    yield Import(module, target, node.lineno, typing_only, ())
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            names = tuple(alias.name for alias in node.names)
            for name in names:  # `from pkg import module` names a module
                target = _resolve(f"{base}.{name}") or _resolve(base)
                if target:
                    yield Import(module, target, node.lineno, typing_only, (name,))
        yield from visit(node, typing_only)

    yield from visit(tree, False)


IMPORTS = [found for module in MODULES for found in imports_of(module)]


def _within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def allowed(source: str, target: str) -> bool:
    """Whether ``source`` may import ``target`` (both ours)."""
    if _within(source, PLUGIN):
        return _within(target, PLUGIN)
    if _within(source, "compiler.dsl"):
        return _within(target, "compiler.dsl")
    if _within(source, "compiler.protocol"):
        return _within(target, "compiler.protocol")
    if source == "compiler":
        return _within(target, "compiler.dsl") or target == "compiler.pipeline"  # compile(), loaded on first use
    if _within(source, "compiler"):
        return _within(target, "compiler")
    if _within(source, "lambdas"):
        return _within(target, "lambdas", "compiler.dsl", "compiler.protocol")
    if _within(source, "cdk"):
        return _within(target, "cdk", "compiler")
    if source == "stepstone":  # stepstone.load() imports the targets when it is called
        return _within(target, "compiler.dsl", "lambdas.context", "lambdas.secrets", "lambdas.errors",
                       "lambdas.codecs", "stepstone.stored", "stepstone.targets")
    if _within(source, "stepstone.local", "stepstone.targets", "stepstone.localstack", "stepstone.records",
               "stepstone.errors", "stepstone.project", "stepstone.view"):
        return not _within(target, "stepstone.cli", "cdk", "benchmarks", "examples")
    if _within(source, "stepstone"):
        return not _within(target, "benchmarks", "examples")
    if _within(source, "examples"):
        return target == "stepstone" or _within(target, "examples")
    return True  # benchmarks measure everything


def test_imports_go_one_way() -> None:
    wrong = [f"{MODULES[i.source].relative_to(ROOT)}:{i.line}: {i.source} imports {i.target}"
             for i in IMPORTS if i.target != i.source and not allowed(i.source, i.target)]
    assert not wrong, "imports against the allowed direction (docs/ARCHITECTURE.md):\n" + "\n".join(wrong)


def test_no_import_cycle_between_files() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        if not i.typing_only and i.target != i.source and not i.source.startswith(i.target + "."):
            graph[i.source].add(i.target)  # a package's own __init__, imported by its modules, is no cycle
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    assert not cycles, "import cycles between files:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_500_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)} has {lines} lines; split it by job"


def test_no_private_name_is_imported_from_another_module() -> None:
    wrong = [f"{MODULES[i.source].relative_to(ROOT)}:{i.line}: {name} from {i.target}"
             for i in IMPORTS for name in i.names
             if name.startswith("_") and not name.startswith("__") and i.target != i.source
             and not i.target.endswith("." + name)]  # a module named _x (examples/_ml.py: not a workflow file)
    assert not wrong, "private names imported across modules:\n" + "\n".join(wrong)


BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items()
                      if isinstance(value, type) and issubclass(value, BaseException)}


def exception_classes() -> Iterator[tuple[str, ast.ClassDef]]:
    """Every class of ours that derives from an exception, by the names of its bases."""
    classes = [(module, node) for module, path in MODULES.items()
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.ClassDef)]
    known = set(BUILTIN_EXCEPTIONS) | {"ClientError", "BotoCoreError", "ValidationError"}
    found: dict[int, tuple[str, ast.ClassDef]] = {}
    grew = True
    while grew:
        grew = False
        for module, node in classes:
            bases = {b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
                     for b in node.bases}
            if id(node) not in found and bases & known:
                found[id(node)] = (module, node)
                known.add(node.name)
                grew = True
    yield from found.values()


# The Lambda worker runs as a script of its own in the function's Python, beside nothing of ours.
STANDALONE = {f"{PLUGIN}.stepstone_lambda_host.worker"}


def test_exceptions_live_in_errors_modules_and_say_so() -> None:
    wrong = []
    for module, node in exception_classes():
        where = f"{MODULES[module].relative_to(ROOT)}:{node.lineno}: {node.name}"
        if node.name.startswith("_") or module in STANDALONE or _within(module, "examples", "benchmarks"):
            continue  # a private signal inside one module; a script on its own; users' and benchmarks' code
        if module.rpartition(".")[2] != "errors":
            wrong.append(f"{where} is defined outside an errors.py")
        elif not node.name.endswith("Error"):
            wrong.append(f"{where}: an exception's name ends in Error")
    assert not wrong, "\n".join(wrong)


def test_the_rules_can_fail() -> None:
    """The checks above see what they look for (or they would pass on anything)."""
    assert len(MODULES) > 150 and len(IMPORTS) > 400
    assert not allowed("compiler.dsl.steps", "compiler.parse") and not allowed("lambdas.runner", "compiler.ir")
    assert not allowed("stepstone.targets.local", "stepstone.cli.run") and allowed("stepstone.cli.run", "compiler.ir")
    assert any(i.source == "compiler.parse.calls" and i.target == "compiler.parse.statements" and i.typing_only
               for i in IMPORTS), "TYPE_CHECKING imports are seen, and told apart"
    assert {"CompileError", "StepFailedError", "TargetError"} <= {n.name for _, n in exception_classes()}
