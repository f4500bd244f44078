"""``kedro azureml run --local``: compile jobs of an opened project and replay each on this machine.

Each job is compiled (and checked by ``doctor``) once, written where the project's local runs live
(``.azureml-local/compiled/<job>.yml``), then replayed from that file with the code snapshot the
check already took, so what runs is exactly what Azure ML would get.

The warm starter (``replay.warm_starts``, see :func:`warm_starter`) starts before the project is
even opened when the steps' environment is already built, so that its imports overlap opening the
project and compiling; it runs in a temporary folder, so a job the checks refuse leaves nothing
new in the project, and its log is copied into ``.azureml-local/`` once a job is accepted. The
folder is removed at the end, and the next ``run --local`` removes one that a run killed with
``kill -9`` left (``replay.starter_folders``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_azureml_deploy.compiler.plan import plan_of
from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.local_folder import ignored_folder
from kedro_azureml_deploy.project_jobs import compile_project_job, default_output_path
from kedro_azureml_deploy.replay.compiled_file import read_compiled_file
from kedro_azureml_deploy.replay.job_replay import line_printer, replay_job, stdout_console
from kedro_azureml_deploy.replay.step_reads import job_reads

if TYPE_CHECKING:
    from rich.console import Console

    from kedro_azureml_deploy.compiler import CompileOptions
    from kedro_azureml_deploy.project import KedroProject
    from kedro_azureml_deploy.replay.report import ReplayReport
    from kedro_azureml_deploy.replay.reuse import Decision
    from kedro_azureml_deploy.replay.warm_starts import StepStarter


def run_jobs_locally(
    project: KedroProject,
    job_names: Sequence[str],
    options: CompileOptions,
    *,
    python: Path | None = None,
    max_parallel: int | None = None,
    resume: str | None = None,
    console: Console | None = None,
    reuse: bool = True,
    warm: bool = True,
    starter: StepStarter | None = None,
) -> list[ReplayReport]:
    """Compile each job of ``job_names`` and replay it locally, one job after the other.

    Args:
        project: the opened project.
        job_names: jobs of ``azureml.yml``.
        options: command-line additions to every job.
        python: the interpreter (or environment) whose ``kedro`` the steps run; by default one
            built like the step image (see ``replay.step_environment``).
        max_parallel: how many steps may run at once.
        resume: a run to resume (one job only).
        console: where the replay's display goes.
        reuse: ``False`` (``--no-reuse``) runs every step, on ``resume`` too.
        warm: fork the steps from a warm starter; ``False`` (``--cold``) starts each as a new
            interpreter.
        starter: the warm starter of :func:`warm_starter`, already warming up; without one (and
            ``warm``), each replay starts its own once its job passed the checks.

    Returns:
        One report per job, in order; a job that fails does not stop the next ones.

    Raises:
        ReplayError: ``resume`` with several jobs, or a job cannot be replayed at all.
        ConfigError, CompileError: a job cannot be compiled.
    """
    if resume and len(job_names) > 1:
        raise ReplayError("--resume takes one job at a time: pass one -j/--job.")
    replay = partial(
        replay_job,
        project_path=project.path,
        python=python,
        max_parallel=max_parallel,
        resume=resume,
        console=console,
        reuse=reuse,
        warm=warm,
        starter=starter,
    )
    return [_run_job_locally(project, name, options, replay, starter) for name in job_names]


@contextlib.contextmanager
def warm_starter(
    project_path: Path, python: Path | None, console: Console | None = None, *, warm: bool = True
) -> Iterator[StepStarter | None]:
    """The warm starter of a ``run --local``, started on entry (see :func:`_early_starter`), so
    that it warms up while the project opens and its jobs compile; ``None`` with ``warm=False``
    or when the steps' environment is not built yet. On the way out it is stopped, its log kept
    in ``.azureml-local/`` when a job passed its checks, and its temporary folder removed."""
    starter = _early_starter(project_path, python, console) if warm else None
    try:
        yield starter
    finally:
        if starter is not None:
            starter.close()
            if starter.kept_log.is_file():  # copied once a job passed
                starter.copy_log()
            starter.remove_temporary_folder()


def _run_job_locally(
    project: KedroProject,
    name: str,
    options: CompileOptions,
    replay: Callable[..., ReplayReport],
    starter: StepStarter | None,
) -> ReplayReport:
    """Compile job ``name``, check it, and ``replay`` it (see :func:`run_jobs_locally`): the
    compile and its code snapshot happen once, and the replay runs that very snapshot."""
    target = default_output_path(project.path, name)
    compiled = compile_project_job(project, name, options, output=target)
    ignored_folder(target.parent)
    compiled.write(target)
    if starter is not None:
        starter.copy_log()
    snapshot = (
        project.code_snapshot(compiled.code_directory)
        if compiled.code_directory is not None
        else None
    )
    return replay(
        target,
        snapshot=snapshot,
        plan=plan_of(compiled).to_dict(),
        reads=job_reads(project, read_compiled_file(target)),
    )


def _early_starter(
    project_path: Path, python: Path | None, console: Console | None
) -> StepStarter | None:
    """A warm starter started now, in a temporary folder, when the steps' environment needs no
    build (nothing is built before the job passes its checks), or the one started as Kedro's CLI
    started, when it fits (:mod:`.starter_at_kedro_start`); ``None`` otherwise: the replay starts
    one after."""
    from kedro_azureml_deploy.replay import starter_at_kedro_start
    from kedro_azureml_deploy.replay.warm_starts import early_starter

    notify = line_printer(console or stdout_console())
    starter = starter_at_kedro_start.take(project_path, python)
    if starter is not None:
        starter.notify_to(notify)
        return starter
    folder = starter_at_kedro_start.steps_bin_folder(project_path, python)
    if folder is None:  # the replay builds it, or says why it cannot, after the checks
        return None
    return early_starter(
        folder, project_path, kept_log=starter_at_kedro_start.kept_log(project_path), notify=notify
    )


#: ``reuse_from`` naming the most recent run of the job.
LATEST_RUN = "latest"


def forecast_local_run(
    project: KedroProject,
    job_name: str,
    options: CompileOptions,
    *,
    reuse_from: str = LATEST_RUN,
    python: Path | None = None,
    runs_dir: Path | None = None,
    notify: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, Decision]]:
    """What ``run --local`` of ``job_name`` would reuse and run, before anything runs.

    The job is compiled (and checked) as ``run --local`` compiles it, then each step is decided
    against the run ``reuse_from`` (``"latest"``: the most recent run of the job) with
    :func:`~kedro_azureml_deploy.replay.reuse.forecast`: with ``step_reuse: true`` as a new run
    would decide (from the reuse cache), otherwise as ``--resume RUN`` would.

    The steps' environment is the one the run would use (``python``, else the environment built
    like the step image, built now if need be); ``notify`` receives the line saying so.

    Returns:
        The id of the run compared with, and each step's decision in the job's order.

    Raises:
        ReplayError: there is no such run, or no run of the job yet.
    """
    from kedro_azureml_deploy.replay.fingerprint import file_digest
    from kedro_azureml_deploy.replay.job_replay import DEFAULT_RUNS_DIR
    from kedro_azureml_deploy.replay.reuse import Fingerprinter, forecast
    from kedro_azureml_deploy.replay.run_store import ReplayRun, RunStore
    from kedro_azureml_deploy.replay.step_cache import project_cache
    from kedro_azureml_deploy.replay.step_variables import python_bin_folder

    target = default_output_path(project.path, job_name)
    compiled = compile_project_job(project, job_name, options, output=target)
    ignored_folder(target.parent)
    compiled.write(target)
    job = read_compiled_file(target)
    store = RunStore(Path(runs_dir).absolute() if runs_dir else project.path / DEFAULT_RUNS_DIR)
    if reuse_from == LATEST_RUN:
        runs = [
            run for run_id in store.run_ids() if (run := store.open(run_id)).job_file == job.path
        ]
        if not runs:
            raise ReplayError(
                f"job {job_name} has no local run yet to reuse from: run it once with "
                f"`kedro azureml run -j {job_name} --local`."
            )
        earlier: ReplayRun = runs[0]
    else:
        earlier = store.open(reuse_from)
    listing = project.code_snapshot(compiled.code_directory or ".")  # image mode: the project
    snapshot = {path.as_posix(): file_digest(listing.source / path) for path in listing.files}
    fingerprinter = Fingerprinter(
        snapshot,
        job_reads(project, job),
        python_bin_folder(python, project.path, notify=notify),
        project.path.resolve(),
        job_inputs=job.inputs,
    )
    cache = project_cache(project.path) if job.step_reuse else None
    decisions = forecast(job, earlier, fingerprinter, cache_has=cache.has if cache else None)
    return earlier.run_id, decisions
