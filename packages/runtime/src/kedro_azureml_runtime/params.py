"""Runtime parameters given on the command line, as a JSON object or as Kedro's ``key=value`` list.

The deploy package uses the same parser for ``kedro azureml compile --params``, so a value means the
same thing on a laptop and in a step.
"""

from __future__ import annotations

import json
from typing import Any

from kedro_azureml_runtime.errors import ParamsError


def parse_params(text: str) -> dict[str, Any]:
    """Parse ``--params``.

    Args:
        text: ``{"a": 1, "b": {"c": "x"}}`` (a JSON object), or ``a=1,b.c=x`` (Kedro's syntax: dotted
            keys nest, numbers become ``int`` or ``float``, everything else stays a string). Empty
            text gives no parameters.

    Returns:
        The parameters as a nested dictionary.

    Raises:
        ParamsError: the text is malformed; the message says how to write it.
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParamsError(
                f"--params is not valid JSON ({exc.msg} at column {exc.colno}): write a JSON "
                "object such as '{\"lr\": 0.1}' or key=value pairs such as lr=0.1,model.depth=3."
            ) from None
        if not isinstance(value, dict):
            raise ParamsError("--params JSON must be an object, such as '{\"lr\": 0.1}'.")
        return value

    params: dict[str, Any] = {}
    for item in text.split(","):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ParamsError(
                f"--params item {item.strip()!r} is not key=value: write pairs separated by commas, "
                "such as lr=0.1,model.depth=3, or a JSON object."
            )
        _set_nested(params, key.split("."), _convert(raw.strip()))
    return params


def parse_load_versions(text: str) -> dict[str, str]:
    """Parse ``--load-versions``: Kedro's ``dataset_name:version,other:version`` syntax.

    Raises:
        ParamsError: an item is not ``name:version``.
    """
    versions: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, version = item.partition(":")
        if not sep or not name.strip() or not version.strip():
            raise ParamsError(
                f"--load-versions item {item!r} is not dataset_name:version, such as "
                "model:2026-01-31T08.00.00.000Z."
            )
        versions[name.strip()] = version.strip()
    return versions


def _convert(raw: str) -> Any:
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _set_nested(target: dict[str, Any], keys: list[str], value: Any) -> None:
    *parents, last = keys
    for key in parents:
        child = target.setdefault(key, {})
        if not isinstance(child, dict):
            raise ParamsError(f"--params sets {key!r} both to a value and to nested keys.")
        target = child
    target[last] = value
