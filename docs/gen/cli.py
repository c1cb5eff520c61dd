"""Writes ``reference/cli.md`` when the site is built (mkdocs-gen-files runs this file).

Each command's section is what ``stepstone COMMAND --help`` prints, made by click from the
command definitions themselves, so the page cannot disagree with ``--help``. (Written
here rather than with mkdocs-click: its Markdown joins the lines of the help texts'
example blocks, which click's own formatter keeps as they are written.)
"""

from __future__ import annotations

from pathlib import Path

import click
import mkdocs_gen_files

from stepstone.cli import main

PAGE = "reference/cli.md"
WIDTH = 80  # as --help prints it in an 80-column terminal (the page has about that width)
INTRO = (Path(__file__).parent / "cli_intro.md").read_text(encoding="utf-8").rstrip()  # the exit codes


def commands(group: click.Group, context: click.Context) -> list[tuple[click.Context, click.Command]]:
    """Every command under ``group``, depth first, each with the context --help would see."""
    found: list[tuple[click.Context, click.Command]] = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        child = click.Context(command, info_name=name, parent=context, terminal_width=WIDTH, max_content_width=WIDTH)
        found.append((child, command))
        if isinstance(command, click.Group):
            found.extend(commands(command, child))
    return found


def page() -> str:
    root = click.Context(main, info_name="stepstone", terminal_width=WIDTH, max_content_width=WIDTH)
    parts = [INTRO, "", "## stepstone", "", "```text", main.get_help(root), "```"]
    for context, command in commands(main, root):
        parts += ["", f"## {context.command_path}", "", "```text", command.get_help(context), "```"]
    return "\n".join(parts) + "\n"


with mkdocs_gen_files.open(PAGE, "w") as out:
    out.write(page())
