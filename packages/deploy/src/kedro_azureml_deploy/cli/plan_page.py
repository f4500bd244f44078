"""``kedro azureml plan --html``: the plan page of a job, with the state of a replay run or of a
submitted Azure ML job."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.cli.jobs import display_path

if TYPE_CHECKING:
    from kedro_azureml_deploy.project import KedroProject


def write_page(
    project: KedroProject,
    plan: Mapping[str, Any],
    path: Path,
    *,
    run_id: str | None = None,
    azure_job: str | None = None,
    workspace: str | None = None,
    interactive: bool = False,
) -> Path:
    """Write the page of ``plan`` to ``path``: with the state of replay run ``run_id``
    (``latest``: the newest), or of Azure ML job ``azure_job``, or of neither.

    Raises:
        ReplayError: no such run (or no run at all).
        SubmitError, ConfigError: the Azure ML job cannot be read.
    """
    from kedro_azureml_deploy.errors import ReplayError
    from kedro_azureml_deploy.plan_page import render_plan_page, write_plan_page

    now = datetime.now().astimezone().isoformat(timespec="seconds")
    if run_id is not None:
        from kedro_azureml_deploy.replay.job_replay import DEFAULT_RUNS_DIR
        from kedro_azureml_deploy.replay.live_page import latest_run, write_run_page
        from kedro_azureml_deploy.replay.run_store import RunStore

        store = RunStore(project.path / DEFAULT_RUNS_DIR)
        run = latest_run(store) if run_id == "latest" else store.open(run_id)
        if run is None:
            job = plan.get("job")
            raise ReplayError(
                f"no replay run in {display_path(store.runs_dir)} yet: replay the job with "
                f"`kedro azureml run -j {job} --local`, or drop --run."
            )
        unknown = sorted(set(run.steps) ^ {step["name"] for step in plan.get("steps", ())})
        if unknown:
            click.echo(
                f"warning: run {run.run_id} replayed another compile of job {plan.get('job')} "
                f"(steps {', '.join(unknown[:5])} differ); its states are shown by step name.",
                err=True,
            )
        written = write_run_page(run, plan, path.absolute())
        what = f"replay run {run.run_id}"
    elif azure_job is not None:
        from kedro_azureml_deploy.azure.job_status import open_job

        job = open_job(
            project.config, azure_job, workspace=workspace, interactive=interactive
        ).read()
        html = render_plan_page(
            plan,
            job.progress(),
            run=f"Azure ML job {job.name} ({job.status})",
            generated_at=now,
        )
        written = write_plan_page(path, html)
        what = f"Azure ML job {job.name}"
    else:
        written = write_plan_page(path, render_plan_page(plan, generated_at=now))
        what = None
    totals = plan.get("totals", {})
    shown = f" with {what}" if what else ""
    click.echo(
        f"Plan page of job {plan.get('job')!r}{shown}: {totals.get('nodes')} nodes in "
        f"{totals.get('steps')} steps -> {display_path(written)}"
    )
    return written
