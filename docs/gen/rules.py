"""Writes ``reference/rules.md`` when the site is built (mkdocs-gen-files runs this file).

Each rule of the catalogue (``compiler/rules.py``: what it means and what to do), and for
each, every bad workflow in ``tests/invalid/workflows/`` that breaks it: its code and the
message the compiler gives it, compiled here, at build time, and printed the way the
command line prints it. Nothing on the page is written by hand, so it cannot disagree
with the compiler.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mkdocs_gen_files

from compiler import CompileError, compile_workflow
from compiler.loader import load_workflows
from compiler.rules import CATALOGUE, TOPICS, RuleDoc
from stepstone.console import print_compile_error

ROOT = Path(__file__).resolve().parents[2]
INVALID = Path("tests", "invalid", "workflows")  # relative to ROOT, as the page shows it
PAGE = "reference/rules.md"
HEADER = re.compile(r"^# expect-(rule|line|message): (.*)$")
DOCSTRING = re.compile(r'\A"""(.+?)"""', re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Example:
    """A bad workflow file and what the compiler says about it."""

    path: Path  # relative to ROOT
    rule: str
    line: int  # where the error points, in the file's own numbering
    caption: str  # the file's docstring: what is wrong with it
    code: str  # the file without its expect- headers and its docstring
    first_line: int  # the file's line number of the code's first line
    output: str  # the error as the command line prints it


def first_error(path: Path) -> CompileError:
    """The error ``stepstone compile`` stops at (as ``tests/invalid/test_invalid.py`` finds it)."""
    try:
        for definition in load_workflows(str(path)):
            compile_workflow(definition)
    except CompileError as error:
        return error
    raise RuntimeError(f"{path} compiled, but every file in {INVALID} must fail")


def printed(error: CompileError) -> str:
    """``error`` as the command line prints it: where, the rule, the message, the line with a caret, the hint."""
    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer):  # the console writes to whatever sys.stderr is when it prints
        print_compile_error(error)
    return ANSI.sub("", buffer.getvalue()).rstrip()


@contextlib.contextmanager
def isolated_imports(folder: Path) -> Iterator[None]:
    """Import the bad workflows without leaving them (or their folder) importable after."""
    path = list(sys.path)
    try:
        yield
    finally:
        sys.path[:] = path
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if file and Path(file).resolve().parent == folder:
                del sys.modules[name]


def example(path: Path) -> Example:
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = {m.group(1): m.group(2) for m in map(HEADER.match, lines[:3]) if m}
    error = first_error(path)
    said = {"rule": error.rule, "line": str(error.location.line if error.location else None), "message": error.message}
    if said != expected:
        raise RuntimeError(f"{path}: expects {expected}, but the compiler says {said}")
    body = "\n".join(lines[len(expected):])
    docstring = DOCSTRING.match(body)  # said above the code, as the example's caption
    caption = " ".join(docstring.group(1).split()) if docstring else ""
    skipped = len(expected) + (body[:docstring.end()].count("\n") + 1 if docstring else 0)
    first_line = next(i for i, line in enumerate(lines, 1) if i > skipped and line.strip())
    code = "\n".join(lines[first_line - 1:]).rstrip()
    return Example(path=path, rule=error.rule, line=int(said["line"]), caption=caption, code=code,
                   first_line=first_line, output=printed(error))


def examples() -> dict[str, list[Example]]:
    found: dict[str, list[Example]] = {}
    with contextlib.chdir(ROOT), isolated_imports((ROOT / INVALID).resolve()), warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # is_compared_with_string.py writes `x is "failed"` on purpose
        for path in sorted(INVALID.glob("*.py")):
            item = example(path)
            found.setdefault(item.rule, []).append(item)
    unknown = sorted(set(found) - set(CATALOGUE))
    if unknown:
        raise RuntimeError(f"{INVALID} expects rules compiler/rules.py does not document: {', '.join(unknown)}")
    return found


def fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def cell(text: str) -> str:
    """``text`` inside a Markdown table cell."""
    return text.replace("|", "\\|")


def show(item: Example) -> str:
    code_fence, output_fence = fence(item.code), fence(item.output)
    highlight = item.line - item.first_line + 1  # Pygments counts highlighted lines from the block's first
    marked = f' hl_lines="{highlight}"' if 1 <= highlight <= item.code.count("\n") + 1 else ""
    return "\n".join([
        item.caption,
        "",
        f'{code_fence}python title="{item.path.as_posix()}" linenums="{item.first_line}"{marked}',
        item.code,
        code_fence,
        "",
        "The compiler says:",
        "",
        f"{output_fence}text",
        item.output,
        output_fence,
        "",
    ])


def section(doc: RuleDoc, shown: list[Example]) -> str:
    parts = [f"### `{doc.name}` {{ #{doc.name} }}", "", f"**{doc.summary}** {doc.explanation}", "",
             f"**What to do:** {doc.fix}", ""]
    if doc.covered_by:
        parts += [f"No workflow file can break this rule on its own; `{doc.covered_by}` triggers it.", ""]
    elif len(shown) > 1:
        parts += [f"{len(shown)} bad workflows break it:", ""]
    parts += [show(item) for item in shown]
    return "\n".join(parts)


def page() -> str:
    found = examples()
    shown = sum(len(items) for items in found.values())
    lines = [
        "# Compiler rules",
        "",
        "When a workflow cannot become a state machine, the compiler stops with one error that names the rule "
        "it broke, points at the line, and says what to write instead:",
        "",
        "```text",
        "FILE:LINE:COLUMN: error[RULE]: what is wrong",
        "  LINE | the line as written",
        "         ^",
        "  hint: what to write instead",
        "```",
        "",
        "`stepstone compile` and `stepstone run` stop at the first error (exit code 2); `stepstone validate` "
        "reports every one it finds (exit code 1), and `stepstone validate --json` gives each as an object with "
        "its `rule`, `message`, `hint`, `file`, `line` and `col`. Rule names are stable: match on them in "
        "scripts. A `CompileError` raised in Python carries the same fields.",
        "",
        f"This page is generated from the compiler when the site is built: {len(CATALOGUE)} rules, and under "
        f"each the bad workflows of `{INVALID.as_posix()}/` ({shown} files) that break it, with the exact "
        "message the compiler gives them. The test suite compiles the same files "
        "(`tests/invalid/test_invalid.py`).",
        "",
        "| Rule | What it rejects |",
        "| --- | --- |",
    ]
    lines += [f"| [`{doc.name}`](#{doc.name}) | {cell(doc.summary)} |" for doc in CATALOGUE.values()]
    lines.append("")
    for topic, title in TOPICS.items():
        docs = [doc for doc in CATALOGUE.values() if doc.topic == topic]
        if docs:
            lines += [f"## {title}", ""]
            lines += [section(doc, found.get(doc.name, [])) for doc in docs]
    return "\n".join(lines)


with mkdocs_gen_files.open(PAGE, "w") as out:
    out.write(page())
