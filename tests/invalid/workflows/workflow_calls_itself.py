# expect-rule: cycle
# expect-line: 24
# expect-message: workflow 'crawl' calls itself
"""A workflow that calls itself (recursion)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Page(BaseModel):
    has_more: bool
    next_token: str


@step
def fetch_page(token: str) -> Page:
    return Page(has_more=False, next_token="")


@workflow
def crawl(token: str) -> None:
    page = fetch_page(token)
    if page.has_more:
        crawl(page.next_token)
