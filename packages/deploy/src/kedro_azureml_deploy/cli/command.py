"""The command class of every deploy command: one way to fail, and ``--verbose``.

A user error (any ``KedroAzureMLError`` of this package, or ``AzureMLRuntimeError`` of the
runtime) leaves a command as one ``Error: <message>`` line on stderr and exit code 1; a command
line that cannot be parsed, as one line and exit code 2 (see the runtime's ``OneLineErrors``).
``--verbose`` shows the traceback instead.
"""

from __future__ import annotations

from typing import Any

import click

from kedro_azureml_deploy.errors import KedroAzureMLError
from kedro_azureml_runtime.cli import OneLineErrors
from kedro_azureml_runtime.errors import AzureMLRuntimeError

#: Where ``--verbose`` is recorded in the click context.
VERBOSE = "kedro_azureml.verbose"


def _record_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[VERBOSE] = value
    return value


class DeployErrors(OneLineErrors):
    """``OneLineErrors`` for the deploy package: its errors and the runtime's, and ``--verbose``."""

    user_errors = (KedroAzureMLError, AzureMLRuntimeError)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(  # type: ignore[attr-defined]
            click.Option(
                ["--verbose"],
                is_flag=True,
                expose_value=False,
                callback=_record_verbose,
                help="Show the traceback when an error occurs.",
            )
        )

    def show_traceback(self, ctx: click.Context) -> bool:
        return bool(ctx.meta.get(VERBOSE))


class DeployCommand(DeployErrors, click.Command):
    """A deploy command (see ``DeployErrors``)."""


class DeployGroup(DeployErrors, click.Group):
    """A group of deploy commands (see ``DeployErrors``)."""


def command(name: str | None = None, **attrs: Any) -> Any:
    """``click.command`` with ``DeployCommand``: how every deploy command is declared."""
    return click.command(name, cls=DeployCommand, **attrs)
