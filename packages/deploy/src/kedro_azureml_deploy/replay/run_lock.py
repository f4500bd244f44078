"""The lock of a replay run: one process replays a run at a time.

``fcntl.flock`` on ``<run>/replay.lock``, held from before the run is touched to the end of the
replay. Taking it is one atomic system call, so two resumes started together cannot both pass;
the kernel releases it when its holder ends, however it ends, so a replay killed with ``kill -9``
leaves no stale lock behind. The holder writes its pid into the file, for the next one to name.
The lock file is opened without following a symlink, and is never removed (removing a lock file
that another process may be opening is a race of its own).

The standard library is enough here: ``filelock`` and ``portalocker`` wrap the same ``flock``
call, with Windows support the replay does not need (it runs steps with ``/bin/sh``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from types import TracebackType

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.run_store import ReplayRun, writing

LOCK_FILE = "replay.lock"


class RunLock:
    """The held lock of one run; a context manager that releases it on exit."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor: int | None = descriptor

    def release(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing the file releases the flock
            self._descriptor = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def lock_run(run: ReplayRun) -> RunLock:
    """Take the lock of ``run`` for this process.

    Raises:
        ReplayError: another process holds it (the message names that process).
        RunWriteError: the lock file cannot be created or written.
    """
    path = run.path / LOCK_FILE
    with writing("the lock file of the run", path):
        # not inherited by steps (os.open's default), so a step never holds the run's lock
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(descriptor)
        os.close(descriptor)
        raise ReplayError(
            f"run {run.run_id} is being replayed by {holder}; wait for that replay to end or stop "
            "it (Ctrl+C in its terminal, or kill that process), then resume the run."
        ) from None
    except BaseException:
        os.close(descriptor)
        raise
    try:
        with writing("the lock file of the run", path):
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(descriptor)
        raise
    return RunLock(descriptor)


def _holder(descriptor: int) -> str:
    """``process <pid>`` of the lock's holder, or ``another process`` until it wrote its pid."""
    with contextlib.suppress(OSError, ValueError):
        return f"process {int(os.pread(descriptor, 32, 0).decode().strip())}"
    return "another process"
