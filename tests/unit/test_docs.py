"""Docs that cannot rot: every block the README and docs/ mark runnable runs here, on the
local target, and prints what the page shows (tests/support/docblocks.py says how a page
marks them and what is masked). The LocalStack ones run in tests/e2e/test_docs_localstack.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.docblocks import Command, Page, Session, compare, environment, pages, read_page, run_page

ROOT = Path(__file__).resolve().parents[2]
PAGES = [page for page in pages(ROOT) if "local" in page.tiers]


@pytest.mark.parametrize("page", PAGES, ids=[str(page.path.relative_to(ROOT)) for page in PAGES])
def test_the_runnable_blocks_of_a_page_print_what_it_shows(page: Page, tmp_path: Path) -> None:
    run_page(page, "local", tmp_path, ROOT)


def test_the_readme_tour_and_the_tutorial_are_among_them() -> None:
    shown = {str(page.path.relative_to(ROOT)) for page in PAGES}
    assert {"README.md", "docs/tutorial.md", "docs/operating.md"} <= shown


def test_a_page_that_no_longer_matches_its_command_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- runnable -->\n```console\n$ echo 'run 20261122-195339-5be8 took 3 ms'\n"
                    "run 20261122-195339-5be8 took 12 ms\n```\n", encoding="utf-8")
    commands = read_page(page).items[0]
    assert isinstance(commands, list) and isinstance(commands[0], Command)
    _, printed = Session(tmp_path, environment(Path(sys.executable).parent)).run(commands[0])
    assert compare(commands[0].expected, printed) is None  # ids and times masked
    assert compare(["run 20261122-195339-5be8 took 3 ms, done"], printed) is not None
    assert compare(["...", "took"], printed) is not None
    assert compare(["run ... took 3 ms"], printed) is None


def test_a_page_id_stands_for_the_run_it_printed(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- runnable -->\n```console\n$ echo run 20261207-101010-abcd\nrun 20261122-195339-5be8\n"
                    "$ echo 20261122-195339-5be8\n20261207-101010-abcd\n```\n", encoding="utf-8")
    commands = read_page(page).items[0]
    assert isinstance(commands, list)
    session = Session(tmp_path, environment(Path(sys.executable).parent))
    session.run(commands[0])
    _, printed = session.run(commands[1])
    assert printed == ["20261207-101010-abcd"]  # the page's id was replaced by the real one
