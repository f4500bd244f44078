"""``kedro azureml doctor``: what would break, or be lost, on Azure ML, with the fix for each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.jobs import open_jobs
from kedro_azureml_deploy.cli.options import JOBS_OPTION, compile_options

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler import CompileOptions


@command()
@JOBS_OPTION
@compile_options
@click.pass_obj
def doctor(metadata: Any, jobs: tuple[str, ...], options: CompileOptions) -> None:
    """Report what would break, or be lost, once job(s) run on Azure ML, with the fix for each.

    compile and run run the same checks; errors stop them (with --strict, warnings too).
    """
    from kedro_azureml_deploy.errors import CompileError
    from kedro_azureml_deploy.project_jobs import diagnose_project_job

    project, names = open_jobs(metadata, jobs, options)
    blocked = []
    for name in names:
        _, diagnosis = diagnose_project_job(project, name, options)
        click.echo(diagnosis.report())
        if diagnosis.blocking(strict=options.strict):
            blocked.append(name)
    if blocked:
        what = "errors or warnings (--strict)" if options.strict else "errors"
        raise CompileError(
            f"doctor found {what} that stop compile and run for job(s) "
            f"{', '.join(map(repr, blocked))}: fix them as listed above."
        )
