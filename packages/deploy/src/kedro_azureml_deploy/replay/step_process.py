"""A step's command running in its own process group, as in its own Azure ML container.

The command runs with ``/bin/sh -c`` in a new session, so a Ctrl+C in the terminal reaches the
replay only, and stopping a step (interruption, timeout) signals every process the step started.
When the command ends, whatever it left running in its group is killed, as a container stopping
would. The group's leader is a small supervisor (:mod:`.step_supervisor`) that kills the group
when the replay dies, even by ``kill -9``: a step never outlives the replay that started it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from kedro_azureml_deploy.replay import step_supervisor

#: Seconds between SIGTERM and SIGKILL when a step is stopped.
STOP_GRACE_SECONDS = 5.0


class StepProcess:
    """One step's command, started by :meth:`start` and followed with :meth:`poll`.

    Attributes:
        warm: the process was forked by the warm starter; ``False``: a new interpreter.
        started: ``time.monotonic()`` when the command started.
        timed_out: the step ran past its timeout and was stopped.
    """

    warm = False

    def __init__(self, popen: subprocess.Popen[bytes] | None, timeout: float | None) -> None:
        self._popen = popen
        self._end_fd = step_supervisor.process_end_fd(popen.pid) if popen is not None else None
        self.started = time.monotonic()
        self._deadline = None if timeout is None else self.started + timeout
        self._stop_requested: float | None = None
        self.timed_out = False

    @classmethod
    def start(
        cls,
        command: str,
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        timeout: float | None,
    ) -> StepProcess:
        """Start ``command`` in ``cwd`` with exactly ``env``, stdout and stderr to ``log_path``.

        Raises:
            OSError: ``log_path`` cannot be opened, or the process cannot be started.
        """
        watch_fd = replay_watch_fd()
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                [sys.executable, "-I", "-S", step_supervisor.__file__, str(watch_fd), command],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(watch_fd,),
            )
        return cls(popen, timeout)

    @property
    def pid(self) -> int:
        """The step's supervisor, leader of its process group."""
        assert self._popen is not None
        return self._popen.pid

    @property
    def process_group(self) -> int:
        """The step's process group: every process of the step, until one leaves it."""
        assert self._popen is not None
        return self._popen.pid

    def poll(self) -> int | None:
        """The command's exit code once it has ended, else ``None``.

        Also enforces the timeout: past it, the step is stopped (SIGTERM to its group, SIGKILL
        after ``STOP_GRACE_SECONDS``) and ``timed_out`` is set.
        """
        code = self._ended()
        if code is not None:
            self._signal_group(signal.SIGKILL)  # what the command left behind
            self._close_end_fd()
            return code
        now = time.monotonic()
        if self._deadline is not None and now >= self._deadline and not self.timed_out:
            self.timed_out = True
            self.stop()
        if self._stop_requested is not None and now - self._stop_requested >= STOP_GRACE_SECONDS:
            self._signal_group(signal.SIGKILL)
        return None

    def end_fd(self) -> int | None:
        """A file descriptor that becomes readable when the command ends (the engine waits on
        it between two polls), ``None`` when there is none or it has ended."""
        return self._end_fd

    def stop(self) -> None:
        """Ask every process of the step to end (SIGTERM); :meth:`poll` kills them after the
        grace period."""
        if self._stop_requested is None:
            self._stop_requested = time.monotonic()
            self._signal_group(signal.SIGTERM)

    def _ended(self) -> int | None:
        """The command's exit code (minus the signal that killed it) once it ended."""
        assert self._popen is not None
        return self._popen.poll()

    def _close_end_fd(self) -> None:
        if self._end_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._end_fd)
            self._end_fd = None

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
            os.killpg(self.process_group, signum)


_watch_pipe: tuple[int, int, int] | None = None  # (owner pid, read end, write end)


def replay_watch_fd() -> int:
    """The read end of this process's supervision pipe (see :mod:`.step_supervisor`).

    The write end stays open, never written, for the life of this process, and no child inherits
    it (``os.pipe`` makes both ends non-inheritable; only the read end is passed, to supervisors):
    when this process dies the kernel closes it and every supervisor sees the pipe readable.
    """
    global _watch_pipe
    if _watch_pipe is None or _watch_pipe[0] != os.getpid():  # none yet, or one of a parent
        if _watch_pipe is not None:  # a forked copy of the parent's ends: the parent's alone
            for end in _watch_pipe[1:]:
                with contextlib.suppress(OSError):
                    os.close(end)
        read_end, write_end = os.pipe()
        _watch_pipe = (os.getpid(), read_end, write_end)
    return _watch_pipe[1]
