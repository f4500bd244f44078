"""``replay_job``: run a compiled Azure ML pipeline job on this machine, step by step, as Azure ML
would (see the package docstring for what is reproduced)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.compiled_file import CompiledFile, read_compiled_file
from kedro_azureml_deploy.replay.display import ReplayDisplay
from kedro_azureml_deploy.replay.mlflow_runs import start_replay_tracking
from kedro_azureml_deploy.replay.read_only import remove_folder
from kedro_azureml_deploy.replay.report import ReplayReport, report_of
from kedro_azureml_deploy.replay.run_store import (
    ReplayRun,
    RunStatus,
    RunStore,
    StepState,
    StepStatus,
    now_iso,
)
from kedro_azureml_deploy.replay.snapshot import take_snapshot
from kedro_azureml_deploy.replay.step_engine import StepEngine
from kedro_azureml_deploy.replay.step_setup import python_bin_folder
from kedro_azureml_deploy.replay.stop_signals import StopSignals

if TYPE_CHECKING:
    from rich.console import Console

    from kedro_azureml_deploy.snapshot.code_snapshot import CodeSnapshot

#: Where runs are kept, relative to the project, unless ``runs_dir`` says otherwise.
DEFAULT_RUNS_DIR = Path(".azureml-local") / "runs"


def replay_job(
    job_file: Path,
    *,
    project_path: Path,
    python: Path | None = None,
    max_parallel: int | None = None,
    resume: str | None = None,
    runs_dir: Path | None = None,
    console: Console | None = None,
    snapshot: CodeSnapshot | None = None,
) -> ReplayReport:
    """Replay the compiled pipeline job ``job_file`` locally, each step in its own process.

    Args:
        job_file: the YAML ``kedro azureml compile`` wrote.
        project_path: the Kedro project the job was compiled from (its local data asset cache,
            in image mode its code, and the default place of the runs).
        python: the interpreter, or environment folder, whose ``kedro`` the steps run; by default
            the environment of the interpreter running this function.
        max_parallel: how many steps may run at once; by default the number of CPUs.
        resume: the id of an earlier run: its succeeded steps are kept (their outputs are read
            again), every other step runs again on a fresh code snapshot.
        runs_dir: where runs are kept; ``<project_path>/.azureml-local/runs`` by default.
        console: where the live table (on a terminal) and the summary go; stdout by default.
        snapshot: the code snapshot the command already took of the job's code folder (``run
            --local`` compiled and checked the job first); taken here when ``None``.

    Returns:
        The run's report. A stop signal (SIGINT, SIGTERM) interrupts the run rather than raising:
        its status is then ``interrupted`` and it can be resumed.

    Raises:
        ReplayError: the job file is missing or cannot be replayed, the run to resume does not
            exist, or an argument is invalid. Nothing is deleted then.
    """
    if os.name == "nt":
        raise ReplayError(
            "the local replay runs steps with /bin/sh in their own process groups: run it on "
            "Linux, macOS or WSL."
        )
    if max_parallel is not None and max_parallel < 1:
        raise ReplayError(f"max_parallel is {max_parallel}; allow at least one step at a time.")
    project_path = Path(project_path).resolve()
    job = read_compiled_file(Path(job_file))
    bin_folder = python_bin_folder(python)
    store = RunStore(Path(runs_dir).absolute() if runs_dir else project_path / DEFAULT_RUNS_DIR)
    if resume is not None:
        run = _reopen(store, resume, job)
    else:
        run = store.create(job.path, job.text, list(job.steps))
    display = ReplayDisplay(console or _stdout_console(), project_path)

    with StopSignals() as stop:
        run.status, run.ended_at, run.replay_pid = RunStatus.RUNNING, None, os.getpid()
        run.save()
        tracking = None
        try:
            copied = take_snapshot(
                job.code or project_path,
                run.snapshot_folder,
                project_path=project_path,
                leave_out=store.runs_dir,
                listing=snapshot,
            )
            parallel = max_parallel or os.cpu_count() or 1
            title = (
                f"Replaying {job.display_name} as run {run.run_id}: {len(job.steps)} steps, "
                f"up to {parallel} at once"
            )
            tracking = start_replay_tracking(
                project_path, yaml.safe_load(job.text), run_name=run.run_id
            )
            with display.live(run, title=title, snapshot=copied):
                StepEngine(
                    job,
                    run,
                    project_path=project_path,
                    bin_folder=bin_folder,
                    max_parallel=parallel,
                    stop=stop,
                    tracking=tracking,
                ).run()
        finally:
            run.status = _run_status(run, interrupted=stop.received is not None)
            run.ended_at, run.replay_pid = now_iso(), None
            if tracking is not None:
                tracking.close(run.status)
            run.save()
    report = report_of(run)
    display.summary(report)
    return report


def _reopen(store: RunStore, run_id: str, job: CompiledFile) -> ReplayRun:
    """Run ``run_id``, ready to replay again every step that has not succeeded.

    Raises:
        ReplayError: no such run, the job file changed since, or another replay is running it.
    """
    run = store.open(run_id)
    if run.job_copy.read_text(encoding="utf-8") != job.text:
        raise ReplayError(
            f"{job.path} is not the compiled job run {run_id} replays ({run.job_copy}): resuming "
            "would mix steps of two jobs. Resume with that file, or start a new run."
        )
    if run.status is RunStatus.RUNNING and run.replay_pid and _process_exists(run.replay_pid):
        raise ReplayError(
            f"run {run_id} is being replayed by process {run.replay_pid}; wait for it or stop it "
            "first."
        )
    for name, state in run.steps.items():
        if state.status is not StepStatus.SUCCEEDED:
            run.steps[name] = StepState()
    remove_folder(run.snapshot_folder)
    return run


def _run_status(run: ReplayRun, *, interrupted: bool) -> RunStatus:
    statuses = {state.status for state in run.steps.values()}
    if statuses == {StepStatus.SUCCEEDED}:
        return RunStatus.SUCCEEDED
    if interrupted or StepStatus.INTERRUPTED in statuses:
        return RunStatus.INTERRUPTED
    return RunStatus.FAILED


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        return True
    return True


def _stdout_console() -> Console:
    from rich.console import Console

    return Console()
