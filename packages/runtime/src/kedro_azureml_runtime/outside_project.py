"""``kedro azureml`` outside a Kedro project: one line saying what is missing, not Kedro's bare
"No such command".

Kedro registers project command groups (``kedro.project_commands``, where ``cli.commands`` lives)
only inside a project, and looks a command up in the global groups (``kedro.global_commands``)
first. So this global group answers ``azureml`` only when Kedro found no project (the root
context then has no project metadata), and stays out of the way inside one: the project group
wins. Outside a project every ``kedro azureml ...`` prints ``Error: kedro azureml needs a Kedro
project: ...`` and exits 1; ``kedro azureml --help`` lists the commands and says the same.

Kedro imports this module on every ``kedro`` call: click and the standard library only.
"""

from __future__ import annotations

from typing import Any

import click

#: What every ``kedro azureml`` command says outside a Kedro project.
NEEDS_PROJECT = (
    "kedro azureml needs a Kedro project: run it from the folder that holds pyproject.toml with "
    "[tool.kedro] (or create one: see the kedro-azureml docs, Getting started)."
)


def _in_project(ctx: click.Context | None) -> bool:
    """Whether Kedro found a project: it passes the project's metadata as the root's ``obj``.

    Without a context (kedro-telemetry asks ``KedroCLI.get_command(ctx=None, ...)`` before every
    command, to mask its arguments), this group stays out of the way: inside a project the
    project group answers, outside one nothing does, and kedro-telemetry masks the command.
    """
    return ctx is None or ctx.find_root().obj is not None


class OutsideProjectCommands(click.Group):
    """Kedro's global group contributing ``azureml``, outside a project only."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [] if _in_project(ctx) else ["azureml"]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name != "azureml" or _in_project(ctx):
            return None
        return azureml


def _needs_project(ctx: click.Context, *_args: Any, **_kwargs: Any) -> None:
    raise click.ClickException(NEEDS_PROJECT)


class AzureMLOutsideProject(click.Group):
    """``kedro azureml`` outside a project: lists the commands that exist, runs none of them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from kedro_azureml_runtime.cli import azureml as project_group

        return project_group.list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command:
        return click.Command(
            cmd_name,
            callback=click.pass_context(_needs_project),
            add_help_option=False,
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            help=NEEDS_PROJECT,
        )

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from kedro_azureml_runtime.cli import azureml as project_group

        rows = []
        for name in self.list_commands(ctx):
            command = project_group.get_command(ctx, name)
            rows.append((name, command.get_short_help_str(60) if command else ""))
        if rows:
            with formatter.section("Commands (inside a Kedro project)"):
                formatter.write_dl(rows)


@click.group(cls=OutsideProjectCommands)
def commands() -> None:
    pass


@commands.group(cls=AzureMLOutsideProject, invoke_without_command=True, help=NEEDS_PROJECT)
@click.pass_context
def azureml(ctx: click.Context) -> None:
    if ctx.invoked_subcommand is None:
        _needs_project(ctx)
