"""Replay runs on disk: one folder per run, its state in ``run.json``.

Layout of a run (``<runs dir>`` is ``.azureml-local/runs`` under the project by default)::

    <runs dir>/<run id>/
        run.json              the run's state, rewritten atomically after every change
        replay.lock           held (``flock``) by the process replaying the run; holds its pid
        job.yml               the compiled job file the run replays, as it was
        code-snapshot/        the files Azure ML would upload, taken once per replay
        <step>/
            step.log          the step's stdout and stderr
            code/             the step's own working copy of the snapshot
            outputs/<port>/   one folder per output

Step names are lower-case identifiers, so they never collide with the run's own entries.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.local_folder import ignored_folder, write_atomically

RUN_FILE = "run.json"
JOB_FILE = "job.yml"
SNAPSHOT_FOLDER = "code-snapshot"
LOG_FILE = "step.log"
RECENT_RUNS_SHOWN = 5


def now_iso() -> str:
    """The current time, ISO 8601 in local time with its offset, to the millisecond."""
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


class StepStatus(StrEnum):
    """Where a step of a replay run is."""

    NOT_STARTED = "not_started"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"


class RunStatus(StrEnum):
    """Where a replay run is."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass
class StepState:
    """What ``run.json`` records about one step.

    Attributes:
        status: where the step is.
        started_at: when its command started (ISO 8601, local time with offset).
        ended_at: when it ended.
        duration: seconds between the two.
        exit_code: the command's exit code; negative when a signal ended it, ``None`` when it
            did not run to an end.
        message: why the replay failed a step whose command succeeded, or could not start it.
        pid: the step's supervisor, leader of its process group, while the step is ``running``.
        process_group: the step's process group while it is ``running``: a resume checks that
            no process of it is left.
        fingerprint: the step's fingerprint when it last ran or was reused (see
            ``replay.fingerprint``); ``None`` before it was decided.
        reuse: why the step was reused or ran (``reused``, ``runs again because …``), when the
            replay compared it with an earlier run.
        start: how its process started: ``warm`` (forked by the warm starter) or ``cold`` (a new
            interpreter); ``None`` before it started.
    """

    status: StepStatus = StepStatus.NOT_STARTED
    started_at: str | None = None
    ended_at: str | None = None
    duration: float | None = None
    exit_code: int | None = None
    message: str | None = None
    pid: int | None = None
    process_group: int | None = None
    fingerprint: dict[str, Any] | None = None
    reuse: str | None = None
    start: str | None = None


class RunWriteError(ReplayError):
    """A file or folder of a run could not be written (a full disk, a quota, permissions).

    Attributes:
        path: what could not be written.
        reason: the operating system's reason (``No space left on device``).
    """

    def __init__(self, what: str, path: Path, error: OSError) -> None:
        self.path = path
        if isinstance(error, shutil.Error) and error.args and isinstance(error.args[0], list):
            error_list = error.args[0]  # copytree's [(source, target, why), ...]: the first why
            self.reason = str(error_list[0][2]) if error_list else str(error)
        else:
            self.reason = error.strerror or str(error)
        super().__init__(f"cannot write {what} {path}: {self.reason}")


@contextlib.contextmanager
def writing(what: str, path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised inside into a :class:`RunWriteError` naming ``what``/``path``."""
    try:
        yield
    except RunWriteError:
        raise
    except OSError as exc:
        raise RunWriteError(what, path, exc) from exc


@dataclass
class ReplayRun:
    """A run folder and its state; change the attributes, then :meth:`save`.

    Attributes:
        path: the run folder.
        job_file: the compiled job file the run was started from.
        status: where the run is.
        started_at: when the run was created.
        ended_at: when the last replay of it ended.
        replay_pid: the process replaying it while ``status`` is ``running``.
        steps: each step's state, in the job's order.
    """

    path: Path
    job_file: Path
    status: RunStatus = RunStatus.RUNNING
    started_at: str = field(default_factory=now_iso)
    ended_at: str | None = None
    replay_pid: int | None = None
    steps: dict[str, StepState] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def job_copy(self) -> Path:
        return self.path / JOB_FILE

    @property
    def snapshot_folder(self) -> Path:
        return self.path / SNAPSHOT_FOLDER

    def step_folder(self, step: str) -> Path:
        return self.path / step

    def log_path(self, step: str) -> Path:
        return self.step_folder(step) / LOG_FILE

    def working_copy(self, step: str) -> Path:
        return self.step_folder(step) / "code"

    def output_folder(self, step: str, port: str) -> Path:
        return self.step_folder(step) / "outputs" / port

    def save(self, *, durable: bool = True) -> None:
        """Write ``run.json`` atomically: a reader sees the old state or the new one.
        ``durable=False`` (a step's start or end, while the run goes on) does not wait for the
        disk: a crash of the replay still leaves one state or the other, a crash of the machine
        may leave the one before (see ``local_folder.write_atomically``).

        Raises:
            RunWriteError: it cannot be written (the old state is left as it was).
        """
        state = {
            "run_id": self.run_id,
            "job_file": str(self.job_file),
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "replay_pid": self.replay_pid,
            "steps": {
                name: {**asdict(step), "log": f"{name}/{LOG_FILE}"}
                for name, step in self.steps.items()
            },
        }
        with writing("the run's state", self.path / RUN_FILE):
            write_atomically(
                self.path / RUN_FILE, json.dumps(state, indent=2) + "\n", durable=durable
            )

    @classmethod
    def load(cls, path: Path) -> ReplayRun:
        """The run in folder ``path``, from its ``run.json``."""
        state = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
        return cls(
            path=path,
            job_file=Path(state["job_file"]),
            status=RunStatus(state["status"]),
            started_at=state["started_at"],
            ended_at=state.get("ended_at"),
            replay_pid=state.get("replay_pid"),
            steps={
                name: StepState(
                    status=StepStatus(step["status"]),
                    started_at=step.get("started_at"),
                    ended_at=step.get("ended_at"),
                    duration=step.get("duration"),
                    exit_code=step.get("exit_code"),
                    message=step.get("message"),
                    pid=step.get("pid"),
                    process_group=step.get("process_group"),
                    fingerprint=step.get("fingerprint"),
                    reuse=step.get("reuse"),
                    start=step.get("start"),
                )
                for name, step in state["steps"].items()
            },
        )


class RunStore:
    """The folder holding replay runs, one subfolder per run named by its run id."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir

    def create(self, job_file: Path, job_text: str, step_names: list[str]) -> ReplayRun:
        """A new run of the compiled job ``job_file`` (whose content is ``job_text``).

        Raises:
            RunWriteError: the run cannot be written; nothing of it is left then.
        """
        with writing("the runs folder", self.runs_dir):
            ignored_folder(self.runs_dir)
            while True:
                path = self.runs_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
        run = ReplayRun(
            path=path, job_file=job_file, steps={name: StepState() for name in step_names}
        )
        try:
            with writing("the copy of the job file", run.job_copy):
                run.job_copy.write_text(job_text, encoding="utf-8")
            run.save()
        except RunWriteError:
            for entry in path.iterdir():  # a run that could not be recorded is no run
                entry.unlink()
            path.rmdir()
            raise
        return run

    def open(self, run_id: str) -> ReplayRun:
        """The run ``run_id``.

        Raises:
            ReplayError: there is no such run (the message lists the most recent ones), or its
                ``run.json`` cannot be read.
        """
        path = self.runs_dir / run_id
        if Path(run_id).name != run_id or not (path / RUN_FILE).is_file():
            recent = self.run_ids()[:RECENT_RUNS_SHOWN]
            known = (
                f"recent runs: {', '.join(recent)}" if recent else "no run has been recorded yet"
            )
            raise ReplayError(f"no replay run {run_id!r} in {self.runs_dir}; {known}.")
        try:
            return ReplayRun.load(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ReplayError(
                f"{path / RUN_FILE} cannot be read ({type(exc).__name__}: {exc}); that run cannot "
                "be resumed: start a new one."
            ) from None

    def run_ids(self) -> list[str]:
        """The ids of the recorded runs, newest first."""
        if not self.runs_dir.is_dir():
            return []
        runs = [path.name for path in self.runs_dir.iterdir() if (path / RUN_FILE).is_file()]
        return sorted(runs, reverse=True)
