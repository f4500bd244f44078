"""``kedro azureml schedule``: create, list, disable and delete the jobs' Azure ML schedules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.cli.command import DeployCommand, DeployGroup
from kedro_azureml_deploy.cli.jobs import open_jobs
from kedro_azureml_deploy.cli.options import (
    DRY_RUN_OPTION,
    ENV_OPTION,
    INTERACTIVE_OPTION,
    JOBS_OPTION,
    WORKSPACE_OPTION,
    compile_options,
    with_options,
)

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler import CompileOptions
    from kedro_azureml_deploy.project import KedroProject

#: The options of the commands that manage existing schedules (list, disable, delete).
MANAGE_OPTIONS = (WORKSPACE_OPTION, INTERACTIVE_OPTION, ENV_OPTION)


class ScheduleGroup(DeployGroup):
    """``schedule`` whose options without a subcommand mean ``schedule create``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group(cls=ScheduleGroup)
def schedule() -> None:
    """Create, list, disable and delete the Azure ML schedules of the jobs of azureml.yml.

    `kedro azureml schedule -j JOB` is short for `kedro azureml schedule create -j JOB`.
    """


@schedule.command(name="create", cls=DeployCommand)
@JOBS_OPTION
@WORKSPACE_OPTION
@DRY_RUN_OPTION
@INTERACTIVE_OPTION
@compile_options
@click.pass_obj
def schedule_create(
    metadata: Any,
    jobs: tuple[str, ...],
    workspace: str | None,
    dry_run: bool,
    interactive: bool,
    options: CompileOptions,
) -> None:
    """Create or update the schedule of job(s) of azureml.yml (their `schedule` key).

    The schedule is named <package>-<job> and tagged with the project, so running this again
    updates it. The code is uploaded now: the runs it starts use this snapshot.
    """
    from kedro_azureml_deploy.azure.schedules import schedule_jobs, scheduled_job
    from kedro_azureml_deploy.cli.run import print_previews

    project, names = open_jobs(metadata, jobs, options)
    for name in names:
        project.config.require_schedule(name)  # the dry run refuses what the real run refuses
    if dry_run:
        for name in names:
            scheduled_job(project, name, options)  # the schedule's inputs fit the job
        print_previews(project, names, options, workspace=workspace)
        return
    report = schedule_jobs(
        project, names, options, workspace=workspace, interactive=interactive, echo=click.echo
    )
    report.raise_for_failures()


@schedule.command(name="list", cls=DeployCommand)
@with_options(*MANAGE_OPTIONS)
@click.pass_obj
def schedule_list(metadata: Any, workspace: str | None, interactive: bool, env: str) -> None:
    """List the project's schedules (in the workspaces of its jobs, or the one -w names)."""
    from kedro_azureml_deploy.azure.schedules import list_schedules

    found = list_schedules(_open(metadata, env), workspace=workspace, interactive=interactive)
    for info in found:
        click.echo(info.describe())
    if not found:
        click.echo("The project has no schedule: create one with `kedro azureml schedule -j JOB`.")


@schedule.command(name="disable", cls=DeployCommand)
@click.argument("name")
@with_options(*MANAGE_OPTIONS)
@click.pass_obj
def schedule_disable(
    metadata: Any, name: str, workspace: str | None, interactive: bool, env: str
) -> None:
    """Stop the project's schedule NAME from firing (`schedule -j JOB` enables it again)."""
    from kedro_azureml_deploy.azure.schedules import disable_schedule

    info = _manage(disable_schedule, metadata, name, workspace, interactive, env)
    click.echo(f"Disabled schedule {info.name} ({info.workspace}).")


@schedule.command(name="delete", cls=DeployCommand)
@click.argument("name")
@with_options(*MANAGE_OPTIONS)
@click.pass_obj
def schedule_delete(
    metadata: Any, name: str, workspace: str | None, interactive: bool, env: str
) -> None:
    """Delete the project's schedule NAME (disabling it first); the jobs it started remain."""
    from kedro_azureml_deploy.azure.schedules import delete_schedule

    _manage(delete_schedule, metadata, name, workspace, interactive, env)
    click.echo(f"Deleted schedule {name}.")


def _open(metadata: Any, env: str) -> KedroProject:
    from kedro_azureml_deploy.project import open_project

    return open_project(metadata.project_path, env=env)


def _manage(
    action: Callable[..., Any],
    metadata: Any,
    name: str,
    workspace: str | None,
    interactive: bool,
    env: str,
) -> Any:
    return action(_open(metadata, env), name, workspace=workspace, interactive=interactive)
