"""Runtime parameters given on the command line, as a JSON object or as Kedro's ``key=value`` list.

The ``key=value`` form and ``--load-versions`` go through Kedro's own parsers (the ones behind
``kedro run``), so a value has the type ``kedro run --params`` would give it. The deploy package
uses the same functions for ``kedro azureml compile --params``, so a value means the same thing on a
laptop and in a step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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


def parameter_input_value(dataset: str, kind: str, text: str) -> Any:
    """The typed value of parameter ``dataset`` from the text of its job input (see
    ``step_contract``): Azure ML writes booleans ``True``/``False``, a number that reads as an integer
    gives an ``int`` (as ``kedro run --params`` gives it), ``json`` is parsed, ``string`` is kept.

    Raises:
        ParamsError: the text is not a value of ``kind``.
    """
    if kind == "string":
        return text
    readers: dict[str, Any] = {
        "json": json.loads,
        "boolean": lambda t: {"true": True, "false": False}[t.strip().lower()],
        "integer": lambda t: int(t.strip()),
        "number": _number,
    }
    if kind not in readers:
        raise ParamsError(
            f"--param-input {dataset}: unknown type {kind!r} (json, boolean, integer, number or "
            "string): compile the job with the kedro-azureml-deploy release of this step's "
            "kedro-azureml-runtime."
        )
    try:
        return readers[kind](text)
    except (ValueError, KeyError):
        raise ParamsError(
            f"--param-input {dataset}: {text!r} is not a {kind} value; set the job input to one "
            "(Azure ML checks the type of inputs set in studio, not of those set by REST)."
        ) from None


def _number(text: str) -> int | float:
    try:
        return int(text.strip())
    except ValueError:
        return float(text.strip())


def runtime_parameters(
    params: Mapping[str, Any], parameter_inputs: Sequence[tuple[str, str, str]]
) -> dict[str, Any]:
    """The runtime parameters of a step: ``params`` (``--params``), then each parameter input set
    at its place (``parameters`` first, then shorter names before longer ones, so
    ``params:model.depth`` wins over ``params:model`` when a step reads both).

    Raises:
        ParamsError: a value does not match its type, or ``parameters`` is not a mapping.
    """
    result: dict[str, Any] = json.loads(json.dumps(dict(params)))  # a deep copy

    def depth(item: tuple[str, str, str]) -> int:
        return 0 if item[0] == "parameters" else 1 + item[0].count(".")

    for dataset, kind, text in sorted(parameter_inputs, key=depth):
        value = parameter_input_value(dataset, kind, text)
        if dataset == "parameters":
            if not isinstance(value, dict):
                raise ParamsError(
                    "--param-input parameters: the value is not a JSON object; set the job "
                    'input `parameters` to one, such as {"lr": 0.1}.'
                )
            result.update(value)
            continue
        if not dataset.startswith("params:"):
            raise ParamsError(
                f"--param-input {dataset}: not a parameter (params:<name>, or parameters); "
                "compile the job again with `kedro azureml compile`."
            )
        *parents, leaf = dataset.removeprefix("params:").split(".")
        target = result
        for key in parents:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[leaf] = value
    return result


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
