"""What looks like a credential: a parameter's name, or a value in a well-known format.

A workflow's parameters and literals travel in clear: in the run's input, its execution
history, its schedules and trigger rules, the run record. A password there is a password
leaked, so the compiler refuses both (``compiler/checks/secrets.py``) and
``WorkflowDef.validate_params`` refuses them in a run's input. Secrets are read by the step
at run time instead (``stepstone.Secret``).

Names. An identifier is split into words (``db_password``, ``dbPassword``, ``DB-Password``
-> ``db password``) and judged by its *last* word, which in an English compound is what
the thing is: ``db_password`` is a password, ``password_min_length`` a length. A few
trailing words that do not change what the value is are dropped first (``api_key_value``
is an API key). So ``token_count`` (a count) and ``max_tokens`` (a number of text tokens)
pass, as do the tokens of NLP (``pad_token``, ``eos_token``), while ``token``,
``auth_token``, ``hf_token`` and ``client_secret`` do not. ``key`` alone is an S3 key and
passes; ``api_key``, ``access_key``, ``private_key`` do not.

Values. Only formats that are certain, never a guess from entropy: AWS access key ids,
PEM private keys, GitHub, Slack and Google API tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["credential_in", "credential_name", "split_words"]

# the last word alone says it is a credential
_SECRET_WORDS = {
    "password": "a password", "passwords": "passwords", "passwd": "a password", "passphrase": "a passphrase",
    "secret": "a secret", "secrets": "secrets", "credential": "a credential", "credentials": "credentials",
    "creds": "credentials", "apikey": "an API key", "apikeys": "API keys", "accesskey": "an access key",
    "privatekey": "a private key", "secretkey": "a secret key",
}
# "<qualifier> key(s)" that are credentials (an S3 key, a cache key or a primary key are not)
_KEY_QUALIFIERS = {"api", "access", "private", "secret", "signing", "encryption", "master"}
# "<qualifier> token": a credential, unless the qualifier is one of the tokens of text models
_TEXT_TOKENS = {"pad", "eos", "bos", "unk", "cls", "sep", "mask", "start", "end", "stop", "special", "input",
                "output", "max", "min", "num", "total", "prompt", "completion", "context", "next", "first", "last",
                "split", "new", "added", "vocab"}
# "<qualifier> tokens" (plural): usually text tokens (max_tokens); a credential only after these
_AUTH_QUALIFIERS = {"auth", "access", "refresh", "api", "bearer", "session", "oauth", "id", "github", "slack"}
# trailing words that say how the value is kept, not what it is (api_key_value is an API key)
_CARRIERS = {"value", "str", "string", "text", "plain", "plaintext", "raw"}


def split_words(name: str) -> list[str]:
    """``dbPassword``, ``db_password``, ``DB-Password``, ``APIKey`` -> lower-case words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [word.lower() for word in re.split(r"[^A-Za-z0-9]+", spaced) if word]


def credential_name(name: str) -> str | None:
    """What credential ``name`` names (``"a password"``), or None when it names none."""
    words = split_words(name)
    while len(words) > 1 and words[-1] in _CARRIERS:
        words.pop()
    if not words:
        return None
    last = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if last in _SECRET_WORDS:
        return _SECRET_WORDS[last]
    if last in ("key", "keys") and before in _KEY_QUALIFIERS:
        return f"{'an' if before[0] in 'aeiou' else 'a'} {before} key" if last == "key" else f"{before} keys"
    if last == "token" and before not in _TEXT_TOKENS:
        return "a token"
    if last == "tokens" and before in _AUTH_QUALIFIERS:
        return f"{before} tokens"
    return None


_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    ("a GitHub token", re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})")),
    ("a Slack token", re.compile(r"(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}")),
)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def credential_in(value: object) -> str | None:
    """What credential a JSON-like value holds somewhere (``"an AWS access key id"``), or None."""
    for text in _strings(value):
        for kind, pattern in _VALUE_PATTERNS:
            if pattern.search(text):
                return kind
    return None
