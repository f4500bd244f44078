"""``kedro azureml replay``: replay a compiled job file on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.options import INPUT_OPTION, REPLAY_OPTIONS, with_options


@command()
@click.argument("job_file", type=click.Path(path_type=Path))
@INPUT_OPTION
@with_options(*REPLAY_OPTIONS)
@click.pass_obj
def replay(
    metadata: Any,
    job_file: Path,
    inputs: dict[str, Any],
    python: Path | None,
    max_parallel: int | None,
    resume: str | None,
    no_reuse: bool,
    cold: bool,
) -> None:
    """Replay a compiled pipeline job YAML on this machine, step by step, as Azure ML would.

    With --input, the job's inputs (the Kedro parameters its nodes read) take new values, as when
    the job is resubmitted with new inputs in Azure ML studio.
    """
    from kedro_azureml_deploy.errors import ReplayError
    from kedro_azureml_deploy.replay import replay_job

    report = replay_job(
        job_file,
        project_path=metadata.project_path,
        python=python,
        max_parallel=max_parallel,
        resume=resume,
        inputs=inputs,
        reuse=not no_reuse,
        warm=not cold,
    )
    if not report.ok:
        raise ReplayError(f"replay {report.status} (run {report.run_id}).")
