"""pydantic's validation errors, told in the words of someone editing ``azureml.yml``.

Each pydantic error becomes a ``Problem``: the key path a reader finds in the file (union tags and
other internal labels removed) and one sentence saying what is wrong and what to write instead.
No pydantic wording or URL reaches the user.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kedro_azureml_deploy.config.problems import (
    ConfigProblems,
    KeyPath,
    Problem,
    closest,
    did_you_mean,
    format_key_path,
    has_key,
    quoted_list,
)


def validation_problems(error: ValidationError, data: Any, model: type[BaseModel]) -> list[Problem]:
    """The problems ``error`` reports about ``data``, validated as ``model``, in the models'
    field order.

    A required key reported missing next to an unknown key that is its misspelling is left out:
    fixing the typo fixes both.
    """
    located = [(details, _key_path(details, data)) for details in error.errors(include_url=False)]
    misspelt = {
        (path[:-1], match)
        for details, path in located
        if details["type"] == "extra_forbidden"
        and (match := closest(str(path[-1]), _keys_at(model, path[:-1])))
    }
    problems: list[Problem] = []
    for details, path in located:
        found = details.get("ctx", {}).get("error")
        if isinstance(found, ConfigProblems):
            problems.extend(Problem(path + p.path, p.message) for p in found.problems)
        elif not (details["type"] == "missing" and (path[:-1], path[-1]) in misspelt):
            problems.append(Problem(path, _message(details, path, model)))
    return list(dict.fromkeys(problems))


def _key_path(details: ErrorDetails, data: Any) -> KeyPath:
    """The error's location as keys and indexes of ``data``.

    pydantic's location also holds labels that are not keys (union tags, ``[key]`` for a mapping's
    key): a segment is kept when ``data`` has it at that point, or when it names a missing key.
    """
    loc = details["loc"]
    path: list[str | int] = []
    node = data
    for position, segment in enumerate(loc):
        is_last = position == len(loc) - 1
        if has_key(node, segment):
            node = node[segment]
        elif not (is_last and details["type"] == "missing"):
            continue
        path.append(segment)
    return tuple(path)


def _message(details: ErrorDetails, path: KeyPath, model: type[BaseModel]) -> str:
    kind, ctx, value = details["type"], details.get("ctx", {}), details.get("input")
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "missing":
        key = path[-1] if path else ""
        where = f"under `{format_key_path(path[:-1])}`" if len(path) > 1 else "at the top level"
        return f"required key `{key}` is missing; add it {where}"
    if kind == "extra_forbidden":
        key = str(path[-1])
        allowed = _keys_at(model, path[:-1])
        return f"unknown key `{key}`" + (
            did_you_mean(key, allowed) or f". Allowed keys here: {quoted_list(allowed)}"
        )
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"expected {quoted_list(choices, 'or')}, got {_shown(value)}{hint}"
    if kind == "string_type":
        quote = f"; quote it: `'{_shown(value)}'`" if isinstance(value, int | float | bool) else ""
        return f"expected a string, got {_shown(value)}{quote}"
    if kind in _STRICT_HINTS:
        # The models take YAML's types as written (pydantic's strict types): say how to write it.
        return f"expected {_EXPECTED[kind]}, got {_shown(value)}{_strict_hint(kind, value)}"
    if kind in _BOUNDS:
        operator, bound = _BOUNDS[kind]
        return f"expected a number {operator} {ctx[bound]}, got {_shown(value)}"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty; give a value or remove the key"
    expected = _EXPECTED.get(kind)
    if expected is not None:
        return f"expected {expected}, got {_shown(value)}"
    return f"{details['msg']}, got {_shown(value)}"


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "datetime_type": "a date and time such as 2025-01-31T06:00:00",
    "datetime_parsing": "a date and time such as 2025-01-31T06:00:00",
    "datetime_from_date_parsing": "a date and time such as 2025-01-31T06:00:00",
}
#: The errors of pydantic's strict types, whose value YAML could read as another type.
_STRICT_HINTS = ("int_type", "bool_type")


def _strict_hint(kind: str, value: Any) -> str:
    """How to write ``value`` as the type ``kind`` expects, when there is an obvious way."""
    if kind == "int_type":
        if isinstance(value, bool):
            return " (true and false are not numbers); write a whole number such as `1`"
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return f"; write it without a decimal point: `{int(value)}`"
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return f"; remove the quotes: `{value.strip()}`"
    if kind == "bool_type" and isinstance(value, str) and value.lower() in ("true", "false"):
        return f"; remove the quotes: `{value.lower()}`"
    return ""


_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _shown(value: Any) -> str:
    """``value`` as a reader of the YAML file would name it."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def _keys_at(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys the model found at ``path`` of the file (below ``model``) allows."""
    annotation: Any = model
    for segment in path:
        annotation = _child(annotation, segment)
        if annotation is None:
            return []
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return list(member.model_fields)
    return []


def _child(annotation: Any, segment: str | int) -> Any:
    """The type of the value found at ``segment`` of a value of type ``annotation``."""
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(segment, str) and segment in member.model_fields:
                return member.model_fields[segment].annotation
        elif get_origin(member) is dict:
            return get_args(member)[1]
        elif get_origin(member) is list:
            return get_args(member)[0]
    return None


def _members(annotation: Any) -> Iterator[Any]:
    """The plain types ``annotation`` is made of, through ``Annotated`` and unions."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _members(get_args(annotation)[0])
    elif origin is Union or origin is types.UnionType:
        for member in get_args(annotation):
            yield from _members(member)
    else:
        yield annotation
