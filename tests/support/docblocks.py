"""The runnable blocks of the documentation, read from its Markdown and run as a reader would.

A page marks what a test runs with an HTML comment on the line before a fenced block (the
comment does not show on the site):

- ``<!-- file: daily_report.py -->`` before a code block: the block is written to that file;
- ``<!-- runnable -->`` before a ``console`` block: each ``$ command`` in it is run with bash
  in the page's folder, in order, and when the page shows lines after a command they are
  its output, compared after masking what changes from run to run (run ids, times, dates,
  process ids, sizes of memory, absolute paths). A line ``...`` stands for any lines.
  A command whose output the page does not show must exit 0;
- ``<!-- runnable: localstack -->``: the same, run only by the LocalStack tier.

Every block of a page runs in one folder, in page order, so a later command sees the files
and runs of the earlier ones. A run id the page shows is bound to the real one the first
time both appear, and the page's id is replaced by the real one in later commands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Command", "FileBlock", "Page", "Session", "compare", "environment", "pages", "read_page", "run_page"]

MARKER = re.compile(r"^<!--\s*(file|runnable)(?::\s*(\S+))?\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w-]*)")
# stepstone's run ids (with what started the run, and a redrive's suffix) and the event ids
# EventBridge names runs by
RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{4}(?:[0-9a-f]{4})?(?:-[a-z0-9]+)*(?:_r\d+)?\b"
                    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")

# what changes from run to run, masked on both sides before comparing
MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?\b"), "<when>"),
    (re.compile(r"\b\d{2}:\d{2}(?::\d{2})?\b"), "<clock>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|min|h)\b"), "<time>"),
    (re.compile(r"\bpid \d+"), "pid <pid>"),
    (re.compile(r"\b\d[\d,]*(?:\.\d+)? (?:MB|GB)\b"), "<memory>"),
    (re.compile(r'File "(?:/[^"/]+)+/([^"/]+)"'), r'File "\1"'),
    (re.compile(r"\s+"), " "),
)
# the local target's progress lines when its output is not a terminal (a terminal shows
# them as the live view, which the table replaces when the run ends)
PROGRESS = re.compile(r"^<clock> \S+/\S+ (?:running|succeeded|failed|reused|retrying|waiting|skipped|cancelled)\b")


@dataclass
class FileBlock:
    path: str
    text: str
    line: int


@dataclass
class Command:
    text: str
    expected: list[str]
    line: int

    @property
    def shows_output(self) -> bool:
        return bool(self.expected)


@dataclass
class Page:
    path: Path
    items: list[FileBlock | list[Command]] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)  # the tier of each command block, in order

    def blocks(self, tier: str) -> list[FileBlock | list[Command]]:
        """The page's files and the command blocks of one tier ("local" or "localstack")."""
        out: list[FileBlock | list[Command]] = []
        commands = iter(self.tiers)
        for item in self.items:
            if isinstance(item, FileBlock) or next(commands) == tier:
                out.append(item)
        return out


def pages(root: Path) -> list[Page]:
    """The README and every page of docs/ that has a runnable block or a file block."""
    paths = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    found = [read_page(path) for path in paths]
    return [page for page in found if page.tiers]


def read_page(path: Path) -> Page:
    page = Page(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        marker = MARKER.match(lines[index])
        if not marker or index + 1 >= len(lines) or not FENCE.match(lines[index + 1]):
            index += 1
            continue
        kind, argument = marker.group(1), marker.group(2)
        fence = FENCE.match(lines[index + 1])
        assert fence
        indent, ticks = fence.group(1), fence.group(2)
        body: list[str] = []
        end = index + 2
        while end < len(lines) and not lines[end].strip().startswith(ticks):
            body.append(lines[end][len(indent):])
            end += 1
        if kind == "file":
            if not argument:
                raise ValueError(f"{path}:{index + 1}: <!-- file: NAME --> needs the file's name")
            page.items.append(FileBlock(argument, "\n".join(body) + "\n", index + 1))
        else:
            page.items.append(_commands(body, index + 3))
            page.tiers.append(argument or "local")
        index = end + 1
    return page


def _commands(body: list[str], first_line: int) -> list[Command]:
    commands: list[Command] = []
    for offset, line in enumerate(body):
        if line.startswith("$ "):
            commands.append(Command(line[2:], [], first_line + offset))
        elif commands:
            commands[-1].expected.append(line)
        elif line.strip():
            raise ValueError(f"line {first_line + offset}: a runnable block starts with a '$ ' command")
    return commands


def _masked(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        line = line.strip()
        if line and not PROGRESS.match(line):
            out.append(line)
    return out


def compare(expected: list[str], actual: list[str]) -> str | None:
    """None when ``actual`` is what the page shows (masked; ``...`` matches any lines),
    else the first difference."""
    want, got = _masked(expected), _masked(actual)
    if _matches(want, got):
        return None
    return "the page shows:\n  " + "\n  ".join(want) + "\nthe command printed:\n  " + "\n  ".join(got)


def _matches(want: list[str], got: list[str]) -> bool:
    if not want:
        return not got
    if want[0] == "...":
        return any(_matches(want[1:], got[start:]) for start in range(len(got) + 1))
    return bool(got) and _line_matches(want[0], got[0]) and _matches(want[1:], got[1:])


def _line_matches(want: str, got: str) -> bool:
    if "..." not in want:
        return RUN_ID.sub("<run>", want) == RUN_ID.sub("<run>", got)
    pattern = ".*".join(re.escape(RUN_ID.sub("<run>", part)) for part in want.split("..."))
    return re.fullmatch(pattern, RUN_ID.sub("<run>", got)) is not None


class Session:
    """One page's folder and the run ids its commands have printed so far."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.ids: dict[str, str] = {}  # the page's run id -> the real one

    def write(self, block: FileBlock) -> None:
        target = self.folder / block.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")

    def run(self, command: Command, timeout: float = 600) -> tuple[int, list[str]]:
        text = command.text
        for shown, real in self.ids.items():
            text = text.replace(shown, real)
        done = subprocess.run(["bash", "-c", text], cwd=self.folder, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
        printed = done.stdout.splitlines()
        self._bind(command.expected, printed)
        return done.returncode, printed

    def _bind(self, expected: list[str], printed: list[str]) -> None:
        shown = [match.group(0) for line in expected for match in RUN_ID.finditer(line)]
        real = [match.group(0) for line in printed for match in RUN_ID.finditer(line)]
        for page_id, real_id in zip(shown, real, strict=False):
            self.ids.setdefault(page_id, real_id)


def environment(bin_dir: Path) -> dict[str, str]:
    """The environment a page's commands run in: stepstone on PATH, no colours, a wide
    terminal, the local target unless a command says otherwise."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("STEPSTONE_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", NO_COLOR="1", COLUMNS="120", TERM="dumb",
               PYTHONUNBUFFERED="1")  # what a command prints to stdout and stderr, in a terminal's order
    return env


def run_page(page: Page, tier: str, folder: Path, root: Path) -> None:
    """Run a page's blocks of one tier in ``folder`` (with the clone's examples/ in it) and
    fail on the first command whose output is not what the page shows, or that exits
    non-zero where the page shows no output."""
    (folder / "examples").symlink_to(root / "examples")
    session = Session(folder, environment(Path(sys.executable).parent))
    where = page.path.relative_to(root)
    for item in page.blocks(tier):
        if isinstance(item, FileBlock):
            session.write(item)
            continue
        for command in item:
            code, printed = session.run(command)
            if command.shows_output:
                difference = compare(command.expected, printed)
                assert difference is None, f"{where}:{command.line}: $ {command.text}\n{difference}"
            else:
                assert code == 0, f"{where}:{command.line}: $ {command.text} exited {code}:\n" + "\n".join(printed)
