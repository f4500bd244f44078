"""The leader of a step's process group: runs the step's command and ends the whole group when
the replay that started it dies, however it dies (``kill -9`` included).

Run as a script, ``python -I -S step_supervisor.py FD COMMAND``: it imports the standard library
only, so it starts in a few milliseconds. ``FD`` is the read end of a pipe whose write end only
the replay holds; the replay never writes into it, so the pipe becomes readable exactly when the
replay's end closes it (the kernel does that when the replay dies). The supervisor then kills its
own process group, which holds every process of the step.

Why a supervisor rather than ``PR_SET_PDEATHSIG`` (``prctl`` through ``ctypes`` in the child
before exec): that signal reaches the direct child only (``/bin/sh``), not the processes it starts
in the step's group; it is sent when the *thread* that forked the child ends, not the process; and
it exists on Linux only. The pipe is closed by the kernel on any death of the replay, on Linux and
macOS alike, and the supervisor turns it into a signal to the whole group. A process that leaves
the step's group on purpose (``setsid``) escapes it, as it would escape the replay's own stop.

The supervisor ignores SIGINT and SIGTERM (the replay's stop sends them to the whole group: the
command gets them and decides), and exits as its command did: same exit code, or killed by the
same signal, so the replay reads the command's own outcome.
"""

from __future__ import annotations

import os
import select
import signal
import sys

#: Seconds between two checks of the command while the replay is alive.
CHECK_SECONDS = 0.05


def supervise(watch_fd: int, command: str) -> int:
    """Run ``command`` with ``/bin/sh -c`` in this process group until it ends, or until
    ``watch_fd`` reports that the replay is gone (then kill the group, this process included).

    Returns:
        The command's wait status, as ``os.waitpid`` gives it.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    child = os.fork()
    if child == 0:  # the command: the default signal dispositions, and no supervision pipe
        try:
            os.close(watch_fd)
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(signum, signal.SIG_DFL)
            os.execv("/bin/sh", ["/bin/sh", "-c", command])
        finally:
            os._exit(127)
    return watch(watch_fd, child)


def watch(watch_fd: int, child: int) -> int:
    """Wait for ``child`` (a process of this group) to end, killing the whole group when
    ``watch_fd`` reports that the replay is gone; the warm starter's step leaders
    (:mod:`.step_starter`) wait for their step with it too.

    Returns:
        The child's wait status, as ``os.waitpid`` gives it.
    """
    ended = process_end_fd(child)  # readable the moment the child ends, where Linux has it
    waited = [watch_fd] if ended is None else [watch_fd, ended]
    try:
        while True:
            readable, _, _ = select.select(waited, [], [], CHECK_SECONDS)
            if watch_fd in readable:  # the replay's end of the pipe is closed: it died
                os.killpg(0, signal.SIGKILL)
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid == child:
                return status
    finally:
        if ended is not None:
            os.close(ended)


def process_end_fd(pid: int) -> int | None:
    """A file descriptor that becomes readable when process ``pid`` ends (``pidfd_open``,
    Linux 5.3 and later), so that waiting for a step ends with it rather than at the next
    check; ``None`` where there is none: the check every ``CHECK_SECONDS`` remains."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def exit_as(status: int) -> None:
    """End this process as a process with wait status ``status`` did: with the same exit code,
    or killed by the same signal."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        sys.exit(128 + signum)  # a signal that does not end a process (none ended the command)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    exit_as(supervise(int(sys.argv[1]), sys.argv[2]))
