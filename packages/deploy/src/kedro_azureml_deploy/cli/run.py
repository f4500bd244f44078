"""``kedro azureml run``: submit job(s) to Azure ML, or replay them here with ``--local``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.jobs import display_path, open_jobs
from kedro_azureml_deploy.cli.options import (
    JOBS_OPTION,
    REPLAY_OPTIONS,
    SUBMIT_OPTIONS,
    compile_options,
    with_options,
)

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler import CompileOptions
    from kedro_azureml_deploy.project import KedroProject

LOCAL_OPTION = click.option(
    "--local",
    is_flag=True,
    help="Replay the compiled job on this machine, step by step, instead of submitting it.",
)


@command()
@JOBS_OPTION
@LOCAL_OPTION
@with_options(*SUBMIT_OPTIONS)
@compile_options
@with_options(*REPLAY_OPTIONS)
@click.pass_obj
def run(
    metadata: Any,
    jobs: tuple[str, ...],
    local: bool,
    workspace: str | None,
    wait: bool,
    dry_run: bool,
    interactive: bool,
    on_job_scheduled: str | None,
    options: CompileOptions,
    python: Path | None,
    max_parallel: int | None,
    resume: str | None,
    no_reuse: bool,
    cold: bool,
) -> None:
    """Compile job(s) of azureml.yml and run them: on Azure ML, or on this machine with --local.

    On Azure ML, each job's code is uploaded (without conf/local, credentials, .env, data/) and
    its pipeline job created in its experiment; the Studio URL is printed.
    """
    submit_only = {"-w/--workspace": workspace, "--wait": wait, "--dry-run": dry_run}
    submit_only |= {"--interactive": interactive, "--on-job-scheduled": on_job_scheduled}
    local_only = {"--python": python, "--max-parallel": max_parallel, "--resume": resume}
    local_only |= {"--no-reuse": no_reuse, "--cold": cold}
    if local:
        _reject(submit_only, "apply to a submission to Azure ML, not to --local")
        _replay_locally(
            metadata, jobs, options, python, max_parallel, resume, reuse=not no_reuse, warm=not cold
        )
        return
    _reject(local_only, "apply to --local only")
    project, names = open_jobs(metadata, jobs, options)
    if dry_run:
        print_previews(project, names, options, workspace=workspace)
        return
    from kedro_azureml_deploy.azure.submission import submit_jobs

    report = submit_jobs(
        project,
        names,
        options,
        workspace=workspace,
        wait=wait,
        interactive=interactive,
        on_job_scheduled=on_job_scheduled,
        echo=click.echo,
    )
    report.raise_for_failures()


def _replay_locally(
    metadata: Any,
    jobs: tuple[str, ...],
    options: CompileOptions,
    python: Path | None,
    max_parallel: int | None,
    resume: str | None,
    *,
    reuse: bool,
    warm: bool,
) -> None:
    from kedro_azureml_deploy.errors import ReplayError
    from kedro_azureml_deploy.replay.local_run import run_jobs_locally, warm_starter

    with warm_starter(metadata.project_path, python, warm=warm) as starter:
        project, names = open_jobs(metadata, jobs, options)
        reports = run_jobs_locally(
            project,
            names,
            options,
            python=python,
            max_parallel=max_parallel,
            resume=resume,
            reuse=reuse,
            warm=warm,
            starter=starter,
        )
    failed = [
        f"{name} ({report.status}, run {report.run_id})"
        for name, report in zip(names, reports, strict=True)
        if not report.ok
    ]
    if failed:
        raise ReplayError(f"replay did not succeed for {', '.join(failed)}.")


def _reject(given: dict[str, Any], why: str) -> None:
    used = [name for name, value in given.items() if value]
    if used:
        raise click.UsageError(f"{', '.join(used)} {why}")


def print_previews(
    project: KedroProject, names: list[str], options: CompileOptions, *, workspace: str | None
) -> None:
    """What submitting (or scheduling) each job would send, for ``--dry-run``."""
    from kedro_azureml_deploy.dry_run import preview_submission
    from kedro_azureml_deploy.local_folder import ignored_folder
    from kedro_azureml_deploy.project_jobs import default_output_path

    for name in names:
        output = default_output_path(project.path, name)
        ignored_folder(output.parent)
        preview = preview_submission(project, name, options, workspace=workspace, output=output)
        click.echo(preview.describe().replace(str(output), display_path(output)))
    click.echo("Dry run: nothing was sent to Azure.")
