"""``replay_job``: run a compiled Azure ML pipeline job on this machine, step by step, as Azure ML
would (see the package docstring for what is reproduced)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.compiled_file import (
    CompiledFile,
    load_yaml,
    read_compiled_file,
    with_inputs,
)
from kedro_azureml_deploy.replay.display import ReplayDisplay
from kedro_azureml_deploy.replay.fingerprint import tree_manifest
from kedro_azureml_deploy.replay.live_page import live_plan_page
from kedro_azureml_deploy.replay.mlflow_runs import start_replay_tracking
from kedro_azureml_deploy.replay.read_only import remove_folder
from kedro_azureml_deploy.replay.report import ReplayReport, report_of
from kedro_azureml_deploy.replay.reuse import Fingerprinter, ReplayReuse, save_code_manifest
from kedro_azureml_deploy.replay.run_lock import RunLock, lock_run
from kedro_azureml_deploy.replay.run_store import (
    ReplayRun,
    RunStatus,
    RunStore,
    RunWriteError,
    StepState,
    StepStatus,
    now_iso,
    writing,
)
from kedro_azureml_deploy.replay.snapshot import take_snapshot
from kedro_azureml_deploy.replay.step_cache import project_cache
from kedro_azureml_deploy.replay.step_engine import StepEngine
from kedro_azureml_deploy.replay.step_variables import python_bin_folder
from kedro_azureml_deploy.replay.stop_signals import StopSignals

if TYPE_CHECKING:
    from rich.console import Console

    from kedro_azureml_deploy.replay.step_reads import JobReads
    from kedro_azureml_deploy.replay.warm_starts import StepStarter
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
    plan: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    reads: JobReads | None = None,
    reuse: bool = True,
    warm: bool = True,
    starter: StepStarter | None = None,
) -> ReplayReport:
    """Replay the compiled pipeline job ``job_file`` locally, each step in its own process.

    Args:
        job_file: the YAML ``kedro azureml compile`` wrote.
        project_path: the Kedro project the job was compiled from (its local data asset cache,
            in image mode its code, and the default place of the runs).
        python: the interpreter, or environment folder, whose ``kedro`` the steps run; by default
            an environment built like the project's step image from its ``uv.lock`` or
            ``requirements.txt`` (once, then cached: see ``replay.step_environment``), or the
            environment of the interpreter running this function when it has neither.
        max_parallel: how many steps may run at once; by default the number of CPUs.
        resume: the id of an earlier run: its succeeded steps are kept (their outputs are read
            again), every other step runs again on a fresh code snapshot.
        runs_dir: where runs are kept; ``<project_path>/.azureml-local/runs`` by default.
        console: where the live table (on a terminal) and the summary go; stdout by default.
        snapshot: the code snapshot the command already took of the job's code folder (``run
            --local`` compiled and checked the job first); taken here when ``None``.
        plan: the job's plan (``JobPlan.to_dict()``): the run's plan page ``<run>/plan.html``
            is kept up to date while it runs (see ``replay.live_page``).
        inputs: new values of the job's inputs (its Kedro parameters), as a resubmission with
            new inputs sets them (``--input NAME=VALUE``); the run records the job with them, so
            resuming it takes the same values.
        reads: what each step's nodes read (``run --local`` works it out from the project), so
            that a changed raw input or parameter re-runs only the steps reading it, and a step
            reading what its fingerprint cannot see is never reused. ``None``: unknown, so every
            file of the snapshot counts for every step, and no step is reused across runs.
        reuse: ``False`` (``--no-reuse``) runs every step: none is kept on ``resume``, and none
            comes from the reuse cache. Otherwise, on ``resume``, a succeeded step is kept when its
            fingerprint is unchanged, and with ``settings.force_rerun: false`` in the job
            (``step_reuse: true``) a step whose fingerprint an earlier run stored in the reuse
            cache gets those outputs instead of running (see ``replay.reuse``).
        warm: fork each step from a starter that imported Kedro and the runtime once (see
            ``replay.warm_starts``); ``False`` (``--cold``) starts every step as a new
            interpreter, as Azure ML does.
        starter: a starter already started (``run --local`` starts one before compiling); used
            when it runs the steps' environment, else one is started here. The caller closes it.

    Returns:
        The run's report. A stop signal (SIGINT, SIGTERM) interrupts the run rather than raising:
        its status is then ``interrupted`` and it can be resumed.

    Raises:
        ReplayError: the job file is missing or cannot be replayed, the run to resume does not
            exist, is being replayed or has a step still running, or an argument is invalid:
            nothing is deleted then. Or a file of the run cannot be written (a full disk): every
            step is stopped first, and the run is recorded as ``interrupted`` when ``run.json``
            can still be written; it resumes once there is space again.
    """
    if os.name == "nt":
        raise ReplayError(
            "the local replay runs steps with /bin/sh in their own process groups: run it on "
            "Linux, macOS or WSL."
        )
    if max_parallel is not None and max_parallel < 1:
        raise ReplayError(f"max_parallel is {max_parallel}; allow at least one step at a time.")
    project_path = Path(project_path).resolve()
    job = with_inputs(read_compiled_file(Path(job_file)), inputs or {}, where="--input")
    display_console = console or stdout_console()
    bin_folder = python_bin_folder(python, project_path, notify=line_printer(display_console))
    store = RunStore(Path(runs_dir).absolute() if runs_dir else project_path / DEFAULT_RUNS_DIR)
    cache = project_cache(project_path) if job.step_reuse else None
    if resume is not None:
        run, lock = _reopen(store, resume, job)
    else:
        try:
            run = store.create(job.path, job.text, list(job.steps))
            lock = lock_run(run)
        except RunWriteError as exc:
            raise ReplayError(
                f"{exc}; no run was started: free some space (or fix the permissions) in "
                f"{store.runs_dir}, then replay again."
            ) from None
    resumed = {
        name: state for name, state in run.steps.items() if state.status is StepStatus.SUCCEEDED
    }
    display = ReplayDisplay(display_console, project_path)
    own_starter = None
    if not warm:
        starter = None
    elif starter is None or starter.bin_folder != bin_folder:
        from kedro_azureml_deploy.replay.step_variables import steps_environment
        from kedro_azureml_deploy.replay.warm_starts import StepStarter

        own_starter = StepStarter(bin_folder, run.path, notify=line_printer(display_console))
        starter = own_starter.start(steps_environment(bin_folder, project_path))

    write_error: RunWriteError | None = None
    recorded = True
    with lock, StopSignals() as stop:
        tracking = None
        try:
            run.status, run.ended_at, run.replay_pid = RunStatus.RUNNING, None, os.getpid()
            run.save()
            with writing("the code snapshot", run.snapshot_folder):
                copied = take_snapshot(
                    job.code or project_path,
                    run.snapshot_folder,
                    project_path=project_path,
                    leave_out=store.runs_dir,
                    listing=snapshot,
                )
            fingerprinter = Fingerprinter(
                tree_manifest(run.snapshot_folder),
                reads,
                bin_folder,
                project_path,
                job_inputs=job.inputs,
            )
            with writing("the code manifest", run.path):
                save_code_manifest(run, fingerprinter.code)
            step_reuse = ReplayReuse(
                fingerprinter,
                run,
                resumed=resumed,
                cache=cache,
                latest=_latest_run(store, job, run) if cache is not None else None,
                forced=not reuse,
            )
            parallel = max_parallel or os.cpu_count() or 1
            title = (
                f"Replaying {job.display_name} as run {run.run_id}: {len(job.steps)} steps, "
                f"up to {parallel} at once"
            )
            tracking = start_replay_tracking(project_path, load_yaml(job.text), run_name=run.run_id)
            with (
                display.live(run, title=title, snapshot=copied),
                live_plan_page(run, plan, console=display_console),
            ):
                StepEngine(
                    job,
                    run,
                    project_path=project_path,
                    bin_folder=bin_folder,
                    max_parallel=parallel,
                    stop=stop,
                    tracking=tracking,
                    reuse=step_reuse,
                    starter=starter,
                ).run()
        except RunWriteError as exc:  # the engine stopped every step before raising it
            write_error = exc
        finally:
            if own_starter is not None:
                own_starter.close()
            interrupted = stop.received is not None or write_error is not None
            run.status = _run_status(run, interrupted=interrupted)
            run.ended_at, run.replay_pid = now_iso(), None
            if tracking is not None:
                tracking.close(run.status)
            try:
                run.save()
            except RunWriteError as exc:
                write_error, recorded = write_error or exc, False
    if write_error is not None:
        raise ReplayError(_write_error_message(write_error, run, recorded=recorded)) from None
    report = report_of(run)
    display.summary(report)
    return report


def _differs_in_input_values_only(recorded: str, now: str) -> bool:
    """Whether two compiled jobs are the same job with other values of its inputs (a parameter
    changed in ``conf/``, ``--params`` or ``--input``): resuming is then safe, since each step's
    fingerprint holds the values of the inputs it binds."""

    def without_values(text: str) -> Any:
        document = load_yaml(text)
        if isinstance(document, dict) and isinstance(document.get("inputs"), dict):
            document["inputs"] = dict.fromkeys(document["inputs"])
        return document

    try:
        return without_values(recorded) == without_values(now)
    except yaml.YAMLError:
        return False


def _reopen(store: RunStore, run_id: str, job: CompiledFile) -> tuple[ReplayRun, RunLock]:
    """Run ``run_id``, locked for this process, ready to replay again every step that has not
    succeeded.

    Raises:
        ReplayError: no such run, the job file changed since, another replay is running it, or a
            step an earlier replay started is still running. Nothing is changed then.
    """
    run = store.open(run_id)
    recorded = run.job_copy.read_text(encoding="utf-8")
    if recorded != job.text and not _differs_in_input_values_only(recorded, job.text):
        raise ReplayError(
            f"{job.path} is not the compiled job run {run_id} replays ({run.job_copy}): resuming "
            "would mix steps of two jobs. The job changed since that run (an edit of the catalog, "
            "the pipelines or azureml.yml changes it): replay it again without --resume, which "
            "starts a new run of every step."
        )
    try:
        lock = lock_run(run)
    except RunWriteError as exc:
        raise ReplayError(
            f"{exc}; free some space (or fix the permissions) in {store.runs_dir}, then resume."
        ) from None
    try:
        run = store.open(run_id)  # as the last holder of the lock left it
        for name, state in run.steps.items():
            group = state.process_group
            if state.status is StepStatus.RUNNING and group and process_group_alive(group):
                raise ReplayError(
                    f"step {name} of run {run_id} is still running (process group {group}), "
                    f"left by a replay that ended without stopping it; wait for it to end or stop "
                    f"it with `kill -- -{group}`, then resume the run."
                )
        for name, state in run.steps.items():
            if state.status is not StepStatus.SUCCEEDED:
                run.steps[name] = StepState()
        if recorded != job.text:  # new input values: the fingerprints say which steps see them
            with writing("the copy of the job file", run.job_copy):
                run.job_copy.write_text(job.text, encoding="utf-8")
        with writing("the code snapshot", run.snapshot_folder):
            remove_folder(run.snapshot_folder)
    except RunWriteError as exc:
        lock.release()
        raise ReplayError(_write_error_message(exc, run, recorded=True)) from None
    except BaseException:
        lock.release()
        raise
    return run, lock


def _latest_run(store: RunStore, job: CompiledFile, current: ReplayRun) -> ReplayRun | None:
    """The most recent other run of the compiled file ``job``, for the reasons of a step that
    the reuse cache does not hold."""
    for run_id in store.run_ids():
        if run_id == current.run_id:
            continue
        try:
            run = ReplayRun.load(store.runs_dir / run_id)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if run.job_file == job.path:
            return run
    return None


def _write_error_message(error: RunWriteError, run: ReplayRun, *, recorded: bool) -> str:
    """One line: what could not be written, what became of the run, and how to go on."""
    outcome = (
        f"run {run.run_id} is {run.status}"
        if recorded
        else f"run {run.run_id} stopped, and its run.json could not record it"
    )
    return (
        f"{error}. The replay stopped every step; {outcome}. Free some space (or fix the "
        f"permissions) in {run.path.parent}, then resume it with --resume {run.run_id}."
    )


def _run_status(run: ReplayRun, *, interrupted: bool) -> RunStatus:
    statuses = {state.status for state in run.steps.values()}
    if statuses == {StepStatus.SUCCEEDED}:
        return RunStatus.SUCCEEDED
    if interrupted or StepStatus.INTERRUPTED in statuses:
        return RunStatus.INTERRUPTED
    return RunStatus.FAILED


def process_group_alive(group: int) -> bool:
    """Whether process group ``group`` still has a process that is not a zombie.

    On Linux ``/proc`` tells zombies apart (a container's init may never reap them); elsewhere
    signal 0 to the group only says that it exists.
    """
    proc = Path("/proc")
    if not (proc / "self" / "stat").is_file():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, and belongs to another user
            return True
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # the process ended meanwhile
            continue
        if fields[2] == str(group) and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False


def line_printer(console: Console) -> Callable[[str], None]:
    """Print one line of the replay's as it is: no markup, no highlighting, no wrapping."""
    return lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)


def stdout_console() -> Console:
    """The console of the replay's display when the caller gives none: standard output."""
    from rich.console import Console

    return Console()
