"""``kedro azureml compile``: job(s) of azureml.yml as Azure ML pipeline job YAML, offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.jobs import display_path, open_jobs
from kedro_azureml_deploy.cli.options import JOBS_OPTION, OUTPUT_OPTION, compile_options

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler import CompileOptions


@command(name="compile")
@JOBS_OPTION
@OUTPUT_OPTION
@compile_options
@click.pass_obj
def compile_command(
    metadata: Any, jobs: tuple[str, ...], output: str | None, options: CompileOptions
) -> None:
    """Compile job(s) of azureml.yml into Azure ML pipeline job YAML, without touching Azure."""
    from kedro_azureml_deploy.local_folder import ignored_folder
    from kedro_azureml_deploy.project_jobs import compile_project_job, default_output_path

    project, names = open_jobs(metadata, jobs, options)
    for name in names:
        target = _output_for(output, name, several=len(names) > 1)
        if target is None:
            target = default_output_path(project.path, name)
            ignored_folder(target.parent)  # the default output is never committed
        compiled = compile_project_job(project, name, options, output=target)
        compiled.write(target)
        click.echo(
            f"Compiled job {name!r}: {len(compiled.steps)} step(s), {len(compiled.crossings)} "
            f"dataset(s) crossing steps -> {display_path(target)}"
        )


def _output_for(output: str | None, job: str, *, several: bool) -> Path | None:
    """Where job ``job`` is written: ``output`` itself for one job, ``output/azureml-<job>.yml``
    for several, or when ``output`` is an existing folder or ends with a path separator (a folder
    still to be created: ``-o compiled/``)."""
    if output is None:
        return None
    path = Path(output)
    if several or path.is_dir() or output.endswith(("/", os.sep)):
        return path / f"azureml-{job}.yml"
    return path
