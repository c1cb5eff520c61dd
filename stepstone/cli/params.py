"""A run's parameters from the command line: ``--param NAME=VALUE`` and ``--input FILE``,
read, checked against the workflow's types, and refused in one line that says what to write."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from compiler.dsl.errors import CompileError, ParamsError
from compiler.dsl.params import params_not_valid
from compiler.dsl.workflows import WorkflowDef

from ..console import EXIT_COMPILE, fail, print_compile_error

__all__ = ["param_options", "params_hint", "params_or_exit", "parse_params"]


def param_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--param NAME=VALUE`` (repeatable) and ``--input FILE``: a run's parameters."""
    command = click.option("-i", "--input", "input_file",
                           type=click.Path(exists=True, dir_okay=False, path_type=Path),
                           help="A JSON file of parameters (--param values override it).")(command)
    return click.option("-p", "--param", "pairs", multiple=True, metavar="NAME=VALUE",
                        help="A workflow parameter (repeat for several); the value is JSON when it parses as "
                             "JSON.")(command)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different (json.loads would keep the last silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {key!r} appears twice")
        found[key] = value
    return found


def parse_params(pairs: tuple[str, ...], input_file: Path | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if input_file is not None:
        try:
            loaded = json.loads(input_file.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON, a key twice
            fail(f"cannot read parameters from {input_file}: {exc}", hint="--input takes a JSON object")
        except RecursionError:
            fail(f"cannot read parameters from {input_file}: it nests deeper than stepstone reads",
                 hint="--input takes a JSON object of parameters")
        if not isinstance(loaded, dict):
            fail(f"{input_file} holds a {type(loaded).__name__}, not a JSON object of parameters",
                 hint='write {"NAME": VALUE, ...}')
        params.update(loaded)
    given: set[str] = set()
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            fail(f"--param {pair!r} is not NAME=VALUE", hint="write --param min_auc=0.8 (values are JSON when they "
                                                            "parse as JSON, text otherwise)")
        if name in given:
            fail(f"--param {name} is given twice", hint="give each parameter once")
        given.add(name)
        try:
            params[name] = json.loads(text, object_pairs_hook=_unique_keys)
        except ValueError:
            params[name] = text
        except RecursionError:
            fail(f"--param {name}: the value nests deeper than stepstone reads",
                 hint="pass large or deep data by reference (an S3 key or a path), not by value")
    return params


def params_hint(definition: Any, errors: list[str], pairs: tuple[str, ...]) -> str:
    """What to pass instead; says so when a --param value meant as text was read as JSON."""
    passed = getattr(definition, "result_params", ())
    if passed:
        return (f"{definition.name} takes {', '.join(passed)} from the step results of the workflow that calls it: "
                "run that workflow, or give it a parameter a run's input holds (an S3 key) and read it in a step")
    hint = f"pass --param NAME=VALUE; the parameters are: {describe_params(definition)}"
    for pair in pairs:
        name, _, text = pair.partition("=")
        name = name.strip()
        wanted_text = any(e.startswith(f"{name}:") and "valid string" in e for e in errors)
        try:
            read_as_json = not isinstance(json.loads(text), str)
        except (ValueError, RecursionError):
            read_as_json = False
        if wanted_text and read_as_json:
            return f"--param {name}={text} was read as JSON, not text; for text, quote it: --param '{name}=" \
                   f"{json.dumps(text)}'"
    return hint


def describe_params(definition: Any) -> str:
    """``name: type = default`` for each parameter, the way they are declared."""
    parts = []
    for name, info in definition.params_model.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
        default = "" if info.is_required() else f" = {info.default!r}"
        parts.append(f"{name}: {annotation}{default}")
    return ", ".join(parts)


def params_or_exit(definition: WorkflowDef[..., Any], pairs: tuple[str, ...],
                   input_file: Path | None) -> dict[str, Any]:
    try:
        return definition.validate_params(parse_params(pairs, input_file))
    except ParamsError as exc:
        fail(params_not_valid(definition.name, exc.errors),
             hint=params_hint(definition, exc.errors, pairs))
    except CompileError as exc:  # a parameter type no run input can hold
        print_compile_error(exc)
        raise SystemExit(EXIT_COMPILE) from None
