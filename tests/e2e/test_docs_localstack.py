"""The blocks the README and docs/ mark ``<!-- runnable: localstack -->``, run on LocalStack
as a reader would run them (tests/unit/test_docs.py runs the local ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepstone.testing.localstack import LocalStackSession
from tests.support.docblocks import Page, pages, run_page

pytestmark = pytest.mark.localstack
ROOT = Path(__file__).resolve().parents[2]
PAGES = [page for page in pages(ROOT) if "localstack" in page.tiers]


def test_the_tutorial_has_localstack_blocks() -> None:
    assert "docs/tutorial.md" in {str(page.path.relative_to(ROOT)) for page in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=[str(page.path.relative_to(ROOT)) for page in PAGES])
def test_the_localstack_blocks_of_a_page_print_what_it_shows(
    page: Page, localstack: LocalStackSession, tmp_path: Path
) -> None:
    run_page(page, "localstack", tmp_path, ROOT)
