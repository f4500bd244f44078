"""Errors a user can cause inside a step; the CLI prints them as one line, without a traceback."""

from __future__ import annotations


class AzureMLRuntimeError(Exception):
    """Base class of the runtime's user-facing errors."""


class ExecuteError(AzureMLRuntimeError):
    """``kedro azureml execute`` was called with arguments that cannot work (node, mount, params)."""


class ParamsError(AzureMLRuntimeError):
    """``--params`` is neither a JSON object nor Kedro's ``key=value,...`` syntax."""


class KeyVaultError(AzureMLRuntimeError):
    """A secret of ``${azureml.keyvault:...}`` cannot be read (extra, credential, access, name)."""


def runtime_error_behind(exc: BaseException) -> AzureMLRuntimeError | None:
    """The runtime error ``exc`` is, or was raised while handling (a resolver's ``KeyVaultError``
    reaches the step wrapped in OmegaConf's ``InterpolationResolutionError``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AzureMLRuntimeError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
