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

import sys
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

COMMANDS_ENTRY_POINT_GROUP = "kedro_azureml.commands"
DEPLOY_DISTRIBUTION = "kedro-azureml-deploy"

#: The commands ``kedro-azureml-deploy`` contributes. With only the runtime installed they answer
#: with a one-line install hint instead of "No such command". A test keeps this list equal to the
#: deploy package's entry points.
DEPLOY_COMMANDS: tuple[str, ...] = (
    "compile",
    "doctor",
    "info",
    "init",
    "replay",
    "run",
    "schedule",
    "schema",
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


class AzureMLGroup(click.Group):
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


@click.group(name="KedroAzureML")
def commands() -> None:
    """Kedro plugin for running a project on Azure ML."""


@commands.group(name="azureml", cls=AzureMLGroup)
def azureml() -> None:
    """Run Kedro pipelines on Azure ML: compile, replay locally, submit, schedule, execute steps."""


@azureml.command()
@click.option(
    "-e",
    "--env",
    envvar="KEDRO_ENV",
    default="local",
    show_default="$KEDRO_ENV, else local",
    help="Kedro configuration environment.",
)
@click.option(
    "-p", "--pipeline", default="__default__", show_default=True, help="Registered pipeline name."
)
@click.option(
    "-n",
    "--node",
    "nodes",
    multiple=True,
    required=True,
    help="Node to run; repeat to run several nodes in one step (in topological order).",
)
@click.option(
    "--az-input",
    "az_inputs",
    type=(str, str),
    multiple=True,
    metavar="NAME PATH",
    help="Dataset NAME is read from the mounted folder PATH. Repeatable.",
)
@click.option(
    "--az-output",
    "az_outputs",
    type=(str, str),
    multiple=True,
    metavar="NAME PATH",
    help="Dataset NAME is written to the mounted folder PATH. Repeatable.",
)
@click.option(
    "--params",
    default="",
    help="Runtime parameters: a JSON object, or Kedro's key=value,key2.sub=value2 syntax.",
)
@click.option(
    "--load-versions",
    default="",
    help="Dataset versions to load, as Kedro's dataset_name:YYYY-MM-DDThh.mm.ss.sssZ,...",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=0,
    show_default=True,
    help="Run the node(s) again, up to this many times, when they fail (a new session each time).",
)
@click.pass_obj
def execute(
    metadata: Any,
    env: str,
    pipeline: str,
    nodes: tuple[str, ...],
    az_inputs: tuple[tuple[str, str], ...],
    az_outputs: tuple[tuple[str, str], ...],
    params: str,
    load_versions: str,
    retries: int,
) -> None:
    """Run node(s) of a pipeline inside an Azure ML step, with every hook of a `kedro run`.

    This is the command each compiled step calls; you rarely type it yourself.
    """
    from kedro_azureml_runtime.errors import AzureMLRuntimeError
    from kedro_azureml_runtime.execute import execute_step
    from kedro_azureml_runtime.params import parse_load_versions, parse_params

    try:
        execute_step(
            project_path=metadata.project_path,
            env=env,
            pipeline=pipeline,
            nodes=list(nodes),
            inputs=dict(az_inputs),
            outputs=dict(az_outputs),
            params=parse_params(params),
            load_versions=parse_load_versions(load_versions),
            retries=retries,
        )
    except AzureMLRuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        # The node (or a hook) raised. Kedro already logged it and fired on_node_error and
        # on_pipeline_error; the traceback is useful here, in the step's log.
        import traceback

        traceback.print_exc(file=sys.stderr)
        click.echo(f"Error: step failed: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
