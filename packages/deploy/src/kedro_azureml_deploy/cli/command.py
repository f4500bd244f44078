"""The command class of every deploy command: one way to fail, ``--verbose``, and a quick exit.

A user error (any ``KedroAzureMLError`` of this package, or ``AzureMLRuntimeError`` of the
runtime) leaves a command as one ``Error: <message>`` line on stderr and exit code 1; a command
line that cannot be parsed, as one line and exit code 2 (see the runtime's ``OneLineErrors``).
``--verbose`` shows the traceback instead.

Quick exit: a deploy command leaves a large heap (azure-ai-ml, pydantic, the compiled job), and
the collector's passes over it at interpreter shutdown took 0.15-0.25 s of every command, after
its work was done. Once a deploy command runs, the process freezes its objects at exit
(``gc.freeze``, after a young collection): the ``atexit`` handlers, module teardown and what
reference counting frees run as before, without the collector walking what is frozen. The one
difference: an object in a reference cycle still alive at exit, which the last collection would
have finalized, is not (its ``__del__`` does not run); no deploy command relies on that.
"""

from __future__ import annotations

import atexit
import functools
import gc
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

    def invoke(self, ctx: click.Context) -> Any:
        freeze_at_exit()
        return super().invoke(ctx)

    def show_traceback(self, ctx: click.Context) -> bool:
        return bool(ctx.meta.get(VERBOSE))


@functools.cache
def freeze_at_exit() -> None:
    """Have this process collect its young garbage and freeze the rest when it exits, once (see
    the module's docstring). ``atexit`` calls handlers last in, first out: the ones registered
    before still run after, and collect what they leave as usual."""
    atexit.register(_freeze)


def _freeze() -> None:
    gc.collect(1)
    gc.freeze()


class DeployCommand(DeployErrors, click.Command):
    """A deploy command (see ``DeployErrors``)."""


class DeployGroup(DeployErrors, click.Group):
    """A group of deploy commands (see ``DeployErrors``)."""


def command(name: str | None = None, **attrs: Any) -> Any:
    """``click.command`` with ``DeployCommand``: how every deploy command is declared."""
    return click.command(name, cls=DeployCommand, **attrs)
