"""Errors a user can cause inside a step; the CLI prints them as one line, without a traceback."""


class AzureMLRuntimeError(Exception):
    """Base class of the runtime's user-facing errors."""


class ExecuteError(AzureMLRuntimeError):
    """``kedro azureml execute`` was called with arguments that cannot work (node, mount, params)."""


class ParamsError(AzureMLRuntimeError):
    """``--params`` is neither a JSON object nor Kedro's ``key=value,...`` syntax."""
