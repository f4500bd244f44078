"""The ``kedro azureml`` command group, shared by the runtime and the deploy package.

Only this package registers the group with Kedro (entry point ``kedro.project_commands``). Other
packages contribute subcommands through the ``kedro_azureml.commands`` entry-point group, which the
group reads when a command is listed or called. So there is exactly one ``azureml`` group whatever
order Kedro loads plugins in, and ``kedro azureml compile`` works as soon as
``kedro-azureml-deploy`` is installed.

Kedro imports this module on every ``kedro`` call inside a project: it must stay cheap to import
(click and the standard library only). Commands import what they need when they run.
"""

from __future__ import annotations

import logging
import sys
import warnings
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

from kedro_azureml_runtime.errors import AzureMLRuntimeError
from kedro_azureml_runtime.step_contract import KEDRO_ENV_VARIABLE, StepCommand, step_options

COMMANDS_ENTRY_POINT_GROUP = "kedro_azureml.commands"
DEPLOY_DISTRIBUTION = "kedro-azureml-deploy"

#: The commands ``kedro-azureml-deploy`` contributes. With only the runtime installed they answer
#: with a one-line install hint instead of "No such command". A test keeps this list equal to the
#: deploy package's entry points.
DEPLOY_COMMANDS: tuple[str, ...] = (
    "cache",
    "compile",
    "doctor",
    "info",
    "init",
    "logs",
    "plan",
    "replay",
    "run",
    "schedule",
    "schema",
    "status",
)


def _contributed_commands() -> dict[str, EntryPoint]:
    """Subcommands other installed packages register under ``kedro_azureml.commands``."""
    return {ep.name: ep for ep in entry_points(group=COMMANDS_ENTRY_POINT_GROUP)}


def _install_deploy_hint(name: str) -> click.Command:
    """A hidden stand-in for a deploy command while ``kedro-azureml-deploy`` is not installed."""

    @click.command(
        name=name,
        hidden=True,
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    @click.pass_context
    def needs_deploy(ctx: click.Context) -> None:
        click.echo(
            f"Error: `kedro azureml {name}` comes with the {DEPLOY_DISTRIBUTION} package, which is "
            f"not installed here: add it with `uv add --dev {DEPLOY_DISTRIBUTION}` "
            f"(or `pip install {DEPLOY_DISTRIBUTION}`).",
            err=True,
        )
        ctx.exit(2)

    return needs_deploy


#: Deprecation notices raised inside upstream libraries, which a user of these commands can do
#: nothing about: left out of the commands' output (only while a command runs, never globally).
KNOWN_THIRD_PARTY_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    # Kedro's OmegaConfigLoader calls OmegaConf.register_new_resolver (omegaconf 2.4).
    (r"register_new_resolver\(\) is deprecated", UserWarning),
    # azure-ai-ml's schemas use marshmallow 3 options deprecated in marshmallow 4.
    (r"The `context` parameter is deprecated", Warning),
    (r"The `ordered` `class Meta` option is deprecated", Warning),
)


#: Log records of upstream libraries that tell a user of these commands nothing, as (logger, start
#: of the message): left out of the commands' output (only while a command runs, never globally).
KNOWN_THIRD_PARTY_LOG_RECORDS: tuple[tuple[str, str], ...] = (
    # Kedro 1.x logs it at INFO for every pipeline whose nodes declare no typed parameters.
    ("kedro.validation.parameter_validator", "No typed parameter requirements found"),
)


class _KnownThirdPartyRecords(logging.Filter):
    """Drops the records of ``KNOWN_THIRD_PARTY_LOG_RECORDS``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(
            record.name == name and record.getMessage().startswith(start)
            for name, start in KNOWN_THIRD_PARTY_LOG_RECORDS
        )


class UsageErrorLine(click.ClickException):
    """A command line that cannot be parsed, said in one line (exit code 2, as click's usage
    errors)."""

    exit_code = 2


class OneLineErrors:
    """Mixin for click commands and groups: usage errors become one line,
    ``Error: <what> (see `<command> --help`).``, instead of click's usage block, and the errors a
    user causes (``user_errors``) become ``Error: <message>``, exit code 1, no traceback.

    Both packages' commands use it; the deploy package adds its own errors and ``--verbose``.
    """

    #: Exceptions a user causes: shown as ``Error: <message>``, exit code 1, no traceback.
    user_errors: tuple[type[Exception], ...] = ()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc, no-any-return]
        except click.UsageError as exc:
            raise _usage_error_line(exc, ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        known_records = _KnownThirdPartyRecords()
        loggers = [logging.getLogger(name) for name, _ in KNOWN_THIRD_PARTY_LOG_RECORDS]
        try:
            with warnings.catch_warnings():
                for message, category in KNOWN_THIRD_PARTY_WARNINGS:
                    warnings.filterwarnings("ignore", message=message, category=category)
                for logger in loggers:
                    logger.addFilter(known_records)
                return super().invoke(ctx)  # type: ignore[misc]
        except UsageErrorLine:
            raise
        except click.UsageError as exc:
            raise _usage_error_line(exc, ctx) from None
        except self.user_errors as exc:
            if self.show_traceback(ctx):
                raise
            raise click.ClickException(str(exc)) from None
        finally:
            for logger in loggers:
                logger.removeFilter(known_records)

    def show_traceback(self, ctx: click.Context) -> bool:
        """Whether a user error shows its traceback (the deploy package's ``--verbose``)."""
        return False


def _usage_error_line(exc: click.UsageError, ctx: click.Context) -> UsageErrorLine:
    message = exc.format_message().rstrip(". ")
    return UsageErrorLine(f"{message} (see `{command_path(exc.ctx or ctx)} --help`).")


def command_path(ctx: click.Context) -> str:
    """``kedro azureml compile``: the command as the user types it, however Kedro was started
    (``python -m kedro`` names the root command differently)."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["kedro", *reversed(names)])


class OneLineErrorsCommand(OneLineErrors, click.Command):
    """A click command whose errors are one line (see ``OneLineErrors``)."""


class OneLineErrorsGroup(OneLineErrors, click.Group):
    """A click group whose errors are one line (see ``OneLineErrors``)."""


class AzureMLGroup(OneLineErrorsGroup):
    """A click group that also serves the subcommands other packages contribute by entry point."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_contributed_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        contributed = _contributed_commands().get(cmd_name)
        if contributed is not None:
            return _load_contributed(contributed)
        if cmd_name in DEPLOY_COMMANDS:
            return _install_deploy_hint(cmd_name)
        return None

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        missing = [name for name in DEPLOY_COMMANDS if name not in _contributed_commands()]
        if missing:
            formatter.write_paragraph()
            formatter.write_text(
                f"{DEPLOY_DISTRIBUTION}, not installed here, adds: {', '.join(missing)}. Install "
                "it to compile, replay, submit and schedule jobs."
            )


def _load_contributed(entry_point: EntryPoint) -> click.Command:
    try:
        command = entry_point.load()
    except Exception as exc:  # a broken install must not take every `kedro` call down with it
        raise click.ClickException(
            f"could not load `kedro azureml {entry_point.name}` from {entry_point.value}: {exc}. "
            f"Reinstall {DEPLOY_DISTRIBUTION} at the same version as kedro-azureml-runtime."
        ) from exc
    if not isinstance(command, click.Command):
        raise click.ClickException(
            f"entry point {entry_point.value} of group {COMMANDS_ENTRY_POINT_GROUP} is not a click "
            "command."
        )
    return command


class ExecuteCommand(OneLineErrorsCommand):
    """``execute``: the runtime's errors are one line."""

    user_errors = (AzureMLRuntimeError,)


@click.group(name="KedroAzureML")
def commands() -> None:
    """Kedro plugin for running a project on Azure ML."""


@commands.group(name="azureml", cls=AzureMLGroup)
def azureml() -> None:
    """Run Kedro pipelines on Azure ML: compile, replay locally, submit, schedule, execute steps."""


@azureml.command(cls=ExecuteCommand)
@click.option(
    "-e",
    "--env",
    envvar=KEDRO_ENV_VARIABLE,
    default="local",
    show_default="$KEDRO_ENV, else local",
    help="Kedro configuration environment.",
)
@step_options
@click.pass_obj
def execute(metadata: Any, env: str, **options: Any) -> None:
    """Run node(s) of a pipeline inside an Azure ML step, with every hook of a `kedro run`.

    This is the command each compiled step calls; you rarely type it yourself.
    """
    from kedro_azureml_runtime.execute import execute_step
    from kedro_azureml_runtime.params import runtime_parameters

    step = StepCommand.from_options(**options)
    params = runtime_parameters(step.params, step.parameter_inputs)
    try:
        execute_step(
            project_path=metadata.project_path,
            env=env,
            pipeline=step.pipeline,
            nodes=list(step.nodes),
            inputs=dict(step.inputs),
            outputs=dict(step.outputs),
            params=params,
            load_versions=step.load_versions,
            retries=step.retries,
        )
    except AzureMLRuntimeError:
        raise
    except Exception as exc:
        # The node (or a hook) raised. Kedro already logged it and fired on_node_error and
        # on_pipeline_error; the traceback is useful here, in the step's log.
        import traceback

        traceback.print_exc(file=sys.stderr)
        click.echo(f"Error: step failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
