"""``kedro azureml plan``: the steps a job compiles to, offline, before anything is paid for."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.jobs import open_jobs
from kedro_azureml_deploy.cli.options import JOBS_OPTION, compile_options

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler import CompileOptions

FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: one row per step, then the totals. json: the plan for tools (one object per "
    "job, one per line with several jobs).",
)


@command()
@JOBS_OPTION
@compile_options
@FORMAT_OPTION
@click.pass_obj
def plan(metadata: Any, jobs: tuple[str, ...], options: CompileOptions, output_format: str) -> None:
    """Show the steps job(s) compile to, without touching Azure: the nodes each step runs, its
    compute and environment, the data crossing into and out of it, and the totals (container
    starts, steps on the critical path, datasets crossing).

    The plan is read from the job compile writes, after the same checks. Only the plan goes to
    stdout (Kedro's log and doctor's warnings go to stderr), so tools can read it.
    """
    from kedro_azureml_deploy.compiler.plan import plan_of, plan_table
    from kedro_azureml_deploy.project_jobs import compile_project_job

    # Kedro's rich log handler writes to whatever sys.stdout is when it writes.
    with contextlib.redirect_stdout(sys.stderr):
        project, names = open_jobs(metadata, jobs, options)
        plans = [plan_of(compile_project_job(project, name, options)) for name in names]
    for index, job_plan in enumerate(plans):
        if output_format == "json":
            click.echo(json.dumps(job_plan.to_dict(), ensure_ascii=False))
        else:
            if index:
                click.echo()
            click.echo(plan_table(job_plan), nl=False)
