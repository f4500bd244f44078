"""``kedro azureml status`` and ``kedro azureml logs``: a submitted job, per Kedro node."""

from __future__ import annotations

from typing import Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.options import ENV_OPTION, INTERACTIVE_OPTION, WORKSPACE_OPTION

JOB_NAME_ARGUMENT = click.argument("job_name", metavar="JOB_NAME")
#: Seconds between two reads of ``--watch`` and ``--follow``.
INTERVAL_OPTION = click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=10,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between two reads of the job, with --watch or --follow.",
)


def _reader(metadata: Any, job_name: str, env: str, workspace: str | None, interactive: bool):
    from kedro_azureml_deploy.azure.job_status import open_job
    from kedro_azureml_deploy.project import open_project

    project = open_project(metadata.project_path, env=env)
    return open_job(project.config, job_name, workspace=workspace, interactive=interactive)


@command()
@JOB_NAME_ARGUMENT
@click.option("--watch", is_flag=True, help="Read the job again every --interval until it ends.")
@INTERVAL_OPTION
@WORKSPACE_OPTION
@INTERACTIVE_OPTION
@ENV_OPTION
@click.pass_obj
def status(
    metadata: Any,
    job_name: str,
    watch: bool,
    interval: float,
    workspace: str | None,
    interactive: bool,
    env: str,
) -> None:
    """Show where submitted Azure ML job JOB_NAME is, per Kedro node: its step's state, start,
    duration, compute and Studio page, and the one-line cause of each failed step.

    JOB_NAME is the Azure ML job name `kedro azureml run` printed. With --watch, exit non-zero
    when the job ends other than Completed.
    """
    import time

    from kedro_azureml_deploy.azure.job_status import status_lines
    from kedro_azureml_deploy.errors import SubmitError

    reader = _reader(metadata, job_name, env, workspace, interactive)
    shown: list[str] = []
    while True:
        job = reader.read()
        lines = status_lines(job)
        if lines != shown:
            if watch and shown:
                click.echo()
            click.echo("\n".join(lines))
            shown = lines
        if not watch or job.finished:
            break
        time.sleep(interval)
    if watch and job.status != "Completed":
        raise SubmitError(f"job {job.name} ended {job.status}: see the causes above, or Studio.")


@command()
@JOB_NAME_ARGUMENT
@click.option(
    "--node", "node", required=True, metavar="NODE", help="The Kedro node whose step log to print."
)
@click.option(
    "--follow", is_flag=True, help="Keep printing the log as it grows, until the step ends."
)
@INTERVAL_OPTION
@WORKSPACE_OPTION
@INTERACTIVE_OPTION
@ENV_OPTION
@click.pass_obj
def logs(
    metadata: Any,
    job_name: str,
    node: str,
    follow: bool,
    interval: float,
    workspace: str | None,
    interactive: bool,
    env: str,
) -> None:
    """Print the log of the step of submitted Azure ML job JOB_NAME that runs Kedro node NODE
    (its user_logs/std_log.txt)."""
    reader = _reader(metadata, job_name, env, workspace, interactive)
    if follow:
        for chunk in reader.follow(node, poll_seconds=interval):
            click.echo(chunk, nl=False)
        return
    step = reader.read(causes=False).step_of_node(node)
    text = reader.log(step)
    if not text:
        click.echo(
            f"step {step.step} (node {node}) has no log yet: it is {step.status}. Wait with "
            "--follow.",
            err=True,
        )
        return
    click.echo(text, nl=False)
