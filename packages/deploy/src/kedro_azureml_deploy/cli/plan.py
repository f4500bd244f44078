"""``kedro azureml plan``: the steps a job compiles to, offline, before anything is paid for."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.jobs import open_jobs
from kedro_azureml_deploy.cli.options import (
    INTERACTIVE_OPTION,
    JOBS_OPTION,
    WORKSPACE_OPTION,
    compile_options,
)

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


HTML_OPTION = click.option(
    "--html",
    "html",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Write the plan as one self-contained HTML page (works offline) instead of printing it.",
)
RUN_OPTION = click.option(
    "--run",
    "run_id",
    is_flag=False,
    flag_value="latest",
    metavar="RUN_ID",
    help="With --html: show the state of replay run RUN_ID on the page (--run alone: the latest "
    "run), each node linking to its step's log.",
)
AZURE_JOB_OPTION = click.option(
    "--azure-job",
    "azure_job",
    metavar="NAME",
    help="With --html: show the state of submitted Azure ML job NAME on the page, each node "
    "linking to its step in Studio.",
)


@command()
@JOBS_OPTION
@compile_options
@FORMAT_OPTION
@HTML_OPTION
@RUN_OPTION
@AZURE_JOB_OPTION
@WORKSPACE_OPTION
@INTERACTIVE_OPTION
@click.pass_obj
def plan(
    metadata: Any,
    jobs: tuple[str, ...],
    options: CompileOptions,
    output_format: str,
    html: Path | None = None,
    run_id: str | None = None,
    azure_job: str | None = None,
    workspace: str | None = None,
    interactive: bool = False,
) -> None:
    """Show the steps job(s) compile to, without touching Azure: the nodes each step runs, its
    compute and environment, the data crossing into and out of it, and the totals (container
    starts, steps on the critical path, datasets crossing).

    The plan is read from the job compile writes, after the same checks. Only the plan goes to
    stdout (Kedro's log and doctor's warnings go to stderr), so tools can read it.

    With --html FILE, the plan is drawn as a page instead: steps as boxes holding their nodes,
    the datasets crossing on the edges, and with --run or --azure-job how far that run got.
    """
    if html is None:
        used = [name for name, value in (("--run", run_id), ("--azure-job", azure_job)) if value]
        given = ", ".join(used) or "-w/--workspace"
        if used or workspace:
            raise click.UsageError(
                f"{given} needs --html FILE: a run is shown on the plan page only"
            )
    elif run_id and azure_job:
        raise click.UsageError("--run and --azure-job: pick one run to show")
    elif len(jobs) > 1:
        raise click.UsageError("--html draws one job: pass one -j/--job")
    from kedro_azureml_deploy.compiler.plan import plan_of, plan_table
    from kedro_azureml_deploy.project_jobs import compile_project_job

    # Kedro's rich log handler writes to whatever sys.stdout is when it writes.
    with contextlib.redirect_stdout(sys.stderr):
        project, names = open_jobs(metadata, jobs, options)
        plans = [plan_of(compile_project_job(project, name, options)) for name in names]
    if html is not None:
        from kedro_azureml_deploy.cli.plan_page import write_page

        write_page(
            project,
            plans[0].to_dict(),
            html,
            run_id=run_id,
            azure_job=azure_job,
            workspace=workspace,
            interactive=interactive,
        )
        return
    for index, job_plan in enumerate(plans):
        if output_format == "json":
            click.echo(json.dumps(job_plan.to_dict(), ensure_ascii=False))
        else:
            if index:
                click.echo()
            click.echo(plan_table(job_plan), nl=False)
