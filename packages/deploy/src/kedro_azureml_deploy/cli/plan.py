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
REUSE_FROM_OPTION = click.option(
    "--reuse-from",
    metavar="RUN_ID",
    help="Also say, per step, whether `run --local` would reuse it or why it would run, compared "
    "with local run RUN_ID, or `latest` (the job's most recent run): from the reuse cache with "
    "step_reuse: true, else as --resume RUN_ID would. One job at a time.",
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
@REUSE_FROM_OPTION
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
    reuse_from: str | None = None,
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
    elif reuse_from:
        raise click.UsageError("--reuse-from prints a table or JSON, not a page: drop --html")
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
        reuse = _reuse(project, names, options, reuse_from) if reuse_from else None
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
            document = job_plan.to_dict()
            if reuse is not None:
                document["reuse"] = {"run": reuse[0], "steps": reuse[1]}
            click.echo(json.dumps(document, ensure_ascii=False))
        else:
            if index:
                click.echo()
            click.echo(plan_table(job_plan), nl=False)
            if reuse is not None:
                click.echo(f"\nReuse, compared with run {reuse[0]}:")
                for step, decision in reuse[1].items():
                    click.echo(f"  {step}: {decision}")


def _reuse(
    project: Any, names: list[str], options: CompileOptions, reuse_from: str
) -> tuple[str, dict[str, str]]:
    """The run compared with, and what ``run --local`` would do with each step."""
    from kedro_azureml_deploy.errors import ReplayError
    from kedro_azureml_deploy.replay.local_run import forecast_local_run

    if len(names) > 1:
        raise ReplayError("--reuse-from takes one job at a time: pass one -j/--job.")
    run_id, decisions = forecast_local_run(
        project,
        names[0],
        options,
        reuse_from=reuse_from,
        notify=lambda line: click.echo(line, err=True),
    )
    return run_id, {step: decision.describe() for step, decision in decisions.items()}
