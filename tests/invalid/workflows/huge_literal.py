# expect-rule: literal-too-large
# expect-line: 23
# expect-message: this literal is 14,001 bytes; literals in a workflow may be at most 8,192 bytes
"""A module-level list of over 8 KiB used in the workflow body: every run would carry it in its state."""
from pydantic import BaseModel

from stepstone import step, workflow

VOCABULARY = [f"token-{i:05d}" for i in range(1000)]


class Corpus(BaseModel):
    uri: str


@step
def tokenize(uri: str, vocabulary: list[str]) -> Corpus:
    return Corpus(uri=uri)


@workflow
def tokenize_corpus(uri: str) -> Corpus:
    return tokenize(uri, VOCABULARY)
