"""What ``replay_job`` returns: the run's outcome, step by step."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kedro_azureml_deploy.replay.run_store import ReplayRun, RunStatus, StepStatus


@dataclass(frozen=True)
class StepResult:
    """How one step of the replay ended.

    Attributes:
        name: the step's name in the compiled job.
        status: ``succeeded``, ``failed``, ``timed_out``, ``interrupted``, ``skipped`` or
            ``not_started`` (a string enum).
        duration: seconds the step ran, ``None`` if it did not start.
        log_path: the step's ``step.log`` (stdout and stderr), ``None`` if it did not start.
        exit_code: its command's exit code (negative: ended by that signal), ``None`` if the
            command did not run to an end.
        message: why the replay failed, skipped or timed out the step, when its exit code does
            not say it (an input it wrote into, a data asset it could not get, ...).
        reuse: why the step was reused or ran, when the replay compared it with an earlier run
            (``reused``, ``runs again because inputs/companies.csv changed``).
    """

    name: str
    status: StepStatus
    duration: float | None
    log_path: Path | None
    exit_code: int | None
    message: str | None = None
    reuse: str | None = None


@dataclass(frozen=True)
class ReplayReport:
    """The outcome of a replay.

    Attributes:
        run_id: the run's id; pass it as ``resume`` to run its unfinished steps again.
        run_dir: the run's folder (``run.json``, the job file, step logs, working copies and
            outputs).
        status: ``succeeded`` (every step succeeded), ``failed`` or ``interrupted``.
        steps: each step's result, in the job's order.
    """

    run_id: str
    run_dir: Path
    status: RunStatus
    steps: list[StepResult]

    @property
    def ok(self) -> bool:
        """Every step succeeded."""
        return self.status is RunStatus.SUCCEEDED

    def step(self, name: str) -> StepResult:
        """The result of step ``name``."""
        for result in self.steps:
            if result.name == name:
                return result
        raise KeyError(name)


def report_of(run: ReplayRun) -> ReplayReport:
    """The report of ``run`` as its state stands."""
    steps = [
        StepResult(
            name=name,
            status=state.status,
            duration=state.duration,
            log_path=run.log_path(name) if state.started_at else None,
            exit_code=state.exit_code,
            message=state.message,
            reuse=state.reuse,
        )
        for name, state in run.steps.items()
    ]
    return ReplayReport(run_id=run.run_id, run_dir=run.path, status=run.status, steps=steps)
