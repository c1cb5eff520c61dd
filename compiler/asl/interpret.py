"""Evaluate the pieces of ASL the emitter writes, on a JSON state: paths, templates, Choice rules.

The local target reads a run's data through these, on the very paths, payload templates
and Choice rules the compiled state machine carries; so what a condition tests locally is
exactly what Step Functions will test. Only the subset the emitter produces is supported:
``$``/``$$`` paths with ``.name`` and ``[index]`` steps, ``States.Format`` and
``States.JsonToString``, and the Choice operators of ``ValuePaths.rule``.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from typing import Any

from ..errors import PathError

__all__ = ["PathError", "holds", "read", "render"]

JSON = Any
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_FORMAT = re.compile(r"^States\.Format\('((?:[^'\\]|\\.)*)'((?:\s*,\s*[^,)]+)*)\)$")
_TO_STRING = re.compile(r"^States\.JsonToString\((.+)\)$")


def read(path: str, state: JSON, context: Mapping[str, JSON]) -> JSON:
    """The value at a JSONPath (``$...`` in the state, ``$$...`` in the context object)."""
    path = path.strip()
    value: JSON
    if path.startswith("$$"):
        value, rest = context, path[2:]
    elif path.startswith("$"):
        value, rest = state, path[1:]
    else:
        raise PathError(f"{path!r} is not a path")
    position = 0
    while position < len(rest):
        match = _STEP.match(rest, position)
        if match is None:
            raise PathError(f"cannot read the path {path!r}")
        name, index = match.groups()
        try:
            value = value[name] if name is not None else value[int(index)]
        except (KeyError, IndexError, TypeError):
            raise PathError(f"the path {path!r} could not be found in the state") from None
        position = match.end()
    return value


def _expression(text: str, state: JSON, context: Mapping[str, JSON]) -> JSON:
    text = text.strip()
    match = _FORMAT.match(text)
    if match:
        template, args = match.group(1), match.group(2)
        values = [read(a, state, context) for a in (p.strip() for p in args.split(",")) if a]
        pieces = template.split("{}")
        if len(pieces) != len(values) + 1:
            raise PathError(f"{text}: {len(values)} arguments for {len(pieces) - 1} placeholders")
        out = pieces[0]
        for value, piece in zip(values, pieces[1:], strict=True):
            out += (value if isinstance(value, str) else json.dumps(value)) + piece
        return out
    match = _TO_STRING.match(text)
    if match:
        return json.dumps(read(match.group(1), state, context), separators=(",", ":"))
    return read(text, state, context)


def render(template: JSON, state: JSON, context: Mapping[str, JSON]) -> JSON:
    """A payload template (``Parameters``, ``ResultSelector``...) filled from the state."""
    if isinstance(template, dict):
        out: dict[str, JSON] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _expression(value, state, context)
            else:
                out[key] = render(value, state, context)
        return out
    if isinstance(template, list):
        return [render(item, state, context) for item in template]
    return template


def _timestamp(value: JSON) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


_KINDS = {
    "Numeric": lambda v: v if isinstance(v, (int, float)) and not isinstance(v, bool) else None,
    "String": lambda v: v if isinstance(v, str) else None,
    "Boolean": lambda v: v if isinstance(v, bool) else None,
    "Timestamp": _timestamp,
}
_OPS = {
    "Equals": lambda a, b: a == b, "LessThan": lambda a, b: a < b, "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b, "GreaterThanEquals": lambda a, b: a >= b,
}


def holds(rule: Mapping[str, JSON], state: JSON, context: Mapping[str, JSON]) -> bool:
    """Whether a Choice rule matches the state. A value of the wrong type makes a comparison
    false, as in Step Functions; a path that reads nothing raises :class:`PathError`."""
    if "And" in rule:
        return all(holds(r, state, context) for r in rule["And"])
    if "Or" in rule:
        return any(holds(r, state, context) for r in rule["Or"])
    if "Not" in rule:
        return not holds(rule["Not"], state, context)
    variable = rule["Variable"]
    if "IsPresent" in rule:
        try:
            read(variable, state, context)
            present = True
        except PathError:
            present = False
        return present == bool(rule["IsPresent"])
    value = read(variable, state, context)
    if "IsNull" in rule:
        return (value is None) == bool(rule["IsNull"])
    for test, of_kind in (("IsBoolean", "Boolean"), ("IsNumeric", "Numeric"), ("IsString", "String"),
                          ("IsTimestamp", "Timestamp")):
        if test in rule:
            return (_KINDS[of_kind](value) is not None) == bool(rule[test])
    for key, expected in rule.items():
        if key == "Variable":
            continue
        by_path = key.endswith("Path")
        name = key[:-4] if by_path else key
        kind = next((k for k in _KINDS if name.startswith(k)), None)
        if kind is None or name[len(kind):] not in _OPS:
            raise ValueError(f"unknown Choice operator {key!r}")
        other = read(expected, state, context) if by_path else expected
        left, right = _KINDS[kind](value), _KINDS[kind](other)
        if left is None or right is None:
            return False
        return bool(_OPS[name[len(kind):]](left, right))
    raise ValueError(f"a Choice rule without an operator: {dict(rule)}")
