"""Runtime parameters given on the command line, as a JSON object or as Kedro's ``key=value`` list.

The ``key=value`` form and ``--load-versions`` go through Kedro's own parsers (the ones behind
``kedro run``), so a value has the type ``kedro run --params`` would give it. The deploy package
uses the same functions for ``kedro azureml compile --params``, so a value means the same thing on a
laptop and in a step.
"""

from __future__ import annotations

import json
from typing import Any

from kedro_azureml_runtime.errors import ParamsError

_HOW_TO_WRITE = (
    "write key=value pairs separated by commas, such as lr=0.1,model.depth=3, "
    "or a JSON object such as '{\"lr\": 0.1}'"
)


def parse_params(text: str) -> dict[str, Any]:
    """Parse ``--params``.

    Args:
        text: ``{"a": 1, "b": {"c": "x"}}`` (a JSON object), or ``a=1,b.c=x`` (Kedro's syntax,
            parsed by Kedro: dotted keys nest, and values are typed as ``kedro run --params``
            types them: ``true``/``false`` are booleans, ``null`` is ``None``, numbers are ``int``
            or ``float``, quoted values stay strings). Empty text gives no parameters.

    Returns:
        The parameters as a nested dictionary.

    Raises:
        ParamsError: the text is malformed; the message says how to write it.
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith(("{", "[")):
        return _parse_json(text)
    return _parse_key_values(text)


def parse_load_versions(text: str) -> dict[str, str]:
    """Parse ``--load-versions`` with Kedro's own parser: ``dataset_name:version,other:version``.

    Raises:
        ParamsError: an item is not ``name:version``, or a version is not a single path component.
    """
    import click
    from kedro.framework.cli.utils import _split_load_versions

    try:
        versions = _split_load_versions(_context(), None, text.strip())
    except click.ClickException as exc:
        raise ParamsError(
            f"--load-versions {text.strip()!r}: {exc.message.rstrip('.')}; write dataset_name:version pairs "
            "separated by commas, such as model:2026-01-31T08.00.00.000Z."
        ) from None
    empty = [name for name, version in versions.items() if not name.strip() or not version.strip()]
    if empty:
        raise ParamsError(
            f"--load-versions item {empty[0]!r} is not dataset_name:version, such as "
            "model:2026-01-31T08.00.00.000Z."
        )
    versions = {name.strip(): version.strip() for name, version in versions.items()}
    for version in versions.values():
        if _unsafe_version(version):  # Kedro 1.3 on refuses these in its parser already
            raise ParamsError(
                f"--load-versions {text.strip()!r}: Version string {version!r} is not allowed; a "
                "version is a single path component, such as model:2026-01-31T08.00.00.000Z."
            )
    return versions


def _unsafe_version(version: str) -> bool:
    """Whether ``version`` would leave the dataset's folder, by Kedro's rule (Kedro 1.3 on)."""
    try:
        from kedro.framework.cli.utils import _is_unsafe_version
    except ImportError:  # Kedro 1.0-1.2: the same rule, written here
        return version in {"", ".", ".."} or "/" in version or "\\" in version
    return _is_unsafe_version(version)


def _parse_json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamsError(
            f"--params is not valid JSON ({exc.msg} at column {exc.colno}): {_HOW_TO_WRITE}."
        ) from None
    if not isinstance(value, dict):
        raise ParamsError("--params JSON must be an object, such as '{\"lr\": 0.1}'.")
    return value


def _parse_key_values(text: str) -> dict[str, Any]:
    import click
    from kedro.framework.cli.utils import _split_params
    from omegaconf.errors import OmegaConfBaseException

    param = click.Option(["--params"])
    try:
        value = _split_params(_context(), param, text)
    except click.ClickException as exc:
        raise ParamsError(
            f"--params {text!r}: {exc.message.rstrip('.')}; {_HOW_TO_WRITE}."
        ) from None
    except OmegaConfBaseException as exc:
        where = f" at {exc.full_key!r}" if getattr(exc, "full_key", None) else ""
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParamsError(
            f"--params {text!r} cannot be read by OmegaConf{where} ({reason}); write such a "
            'value in a JSON object instead, such as \'{"key": "text"}\'.'
        ) from None
    return dict(value)


def _context() -> Any:
    import click

    return click.Context(click.Command("params"))
