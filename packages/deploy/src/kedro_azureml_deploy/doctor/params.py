"""``--params`` that set nothing: a key the project's parameters do not define.

Kedro adds such a key silently (a typo in ``--params learning_rat=0.1`` leaves the real parameter
as it was), so doctor warns, naming the key and the closest parameter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from difflib import get_close_matches
from typing import Any

from kedro_azureml_deploy.doctor.findings import Finding, Severity


def unknown_params(
    runtime_params: Mapping[str, Any], parameters: Mapping[str, Any], *, env: str
) -> list[Finding]:
    """A warning for each key of ``runtime_params`` (dotted for nested keys) that
    ``parameters`` (the project's, before overrides) does not define."""
    known = set(_keys(parameters))
    folders = "conf/base" if env == "base" else f"conf/base or conf/{env}"
    findings = []
    for key in _keys(runtime_params):
        if key in known or any(key.startswith(f"{other}.") for other in _leaves(parameters)):
            continue
        close = get_close_matches(key, sorted(known), n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        findings.append(
            Finding(
                Severity.WARNING,
                f"--params {key}",
                f"no parameter of {folders} is called `{key}`{hint}, so the steps get "
                "a new parameter nobody reads",
                "fix the key, or add the parameter to parameters.yml",
            )
        )
    return findings


def _keys(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """Every key path of ``mapping``: ``model``, ``model.depth``, ..."""
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from _keys(value, f"{path}.")


def _leaves(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The key paths whose value is not a mapping (a runtime key below one of them replaces it)."""
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{path}.")
        else:
            yield path
