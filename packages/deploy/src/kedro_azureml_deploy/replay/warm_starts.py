"""Warm step starts: each step a fresh process forked from one that imported Kedro already.

A cold step is a new interpreter that imports Kedro, its plugins' commands and the runtime
before it reads anything of its project: 1 to 2.5 s per step, most of a small step's time. The
replay instead starts, once, a *starter* (:mod:`.step_starter`) with the step environment's own
interpreter (the ``python`` of the bin folder the steps run, never this one), which imports them
and forks one process per step on request. Each step process is set up as a cold step is (its own
session and process group led by a supervisor that ends the group with the replay, its working
copy, exactly its environment, stdin from ``/dev/null``, stdout and stderr to its log) and runs
the same ``kedro azureml execute`` command line; its session, hooks, catalog and outputs are its
own, and nothing one step changes in memory reaches another: each is a copy of the starter,
which runs no step.

A step starts cold instead when its command is not a plain ``kedro azureml execute`` (a user's
command, shell syntax, another ``kedro`` first on ``PATH``) or its environment differs from the
starter's in a variable read at start-up (:data:`STARTUP_VARIABLE_PREFIXES`). When the starter
cannot start or dies, every later step starts cold, with one line saying why.

Nothing here blocks the replay's engine for long: it holds steps back while the starter warms up
(:meth:`StepStarter.warming` never waits) and goes on with its loop, and the wait for a step's
leader looks at the replay's stop signals every :data:`WAIT_SLICE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from kedro_azureml_deploy.local_folder import write_atomically
from kedro_azureml_deploy.replay import step_starter
from kedro_azureml_deploy.replay.starter_folders import StarterFolder
from kedro_azureml_deploy.replay.step_process import StepProcess, replay_watch_fd
from kedro_azureml_deploy.replay.step_variables import steps_environment

#: Seconds the starter may take, from its start, to import Kedro and the runtime before steps
#: start cold.
READY_SECONDS = 120.0
#: Seconds a step's leader may take to say it started.
LEADER_SECONDS = 10.0
#: Seconds between two looks at whether the replay is being stopped, while a leader is awaited.
WAIT_SLICE_SECONDS = 0.05
LOG_NAME = "step-starter.log"
_EXECUTE = ["kedro", "azureml", "execute"]
#: What makes a command more than one simple command for ``/bin/sh``, outside quotes.
_SHELL_SYNTAX = set("$`;&|<>()*?[]{}~#!\n")


def execute_arguments(command: str, cwd: Path) -> list[str] | None:
    """The arguments of ``command`` when it is a plain ``kedro azureml execute ...`` (after an
    image job's ``cd <working copy> &&``), ``None`` when only a shell can run it."""
    from kedro_azureml_deploy.replay.compiled_file import IMAGE_WORKDIR_PREFIX

    prefix = IMAGE_WORKDIR_PREFIX.match(command)
    if prefix is not None:
        if shlex.split(prefix["workdir"]) != [str(cwd)]:
            return None
        command = command[prefix.end() :]
    if _has_shell_syntax(command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    return words if words[:3] == _EXECUTE else None


def _has_shell_syntax(command: str) -> bool:
    quote = None
    escaped = False
    for char in command:
        if escaped:
            escaped = False
        elif quote == "'":
            quote = None if char == "'" else quote
        elif char == "\\":
            escaped = True
        elif quote == '"':
            if char in "$`":
                return True
            quote = None if char == '"' else quote
        elif char in "'\"":
            quote = char
        elif char in _SHELL_SYNTAX:
            return True
    return False


#: The environment variables that act when a process starts or a library loads, by prefix. A
#: warm step is a fork of the starter: it sees its own values in ``os.environ``, but what read
#: them has done so already, with the starter's. So a step whose values of these differ from the
#: starter's (set, changed or unset) starts cold.
#:
#: - ``PYTHON``: the interpreter's start-up (``PYTHONPATH``, ``PYTHONHASHSEED``, ``PYTHONHOME``,
#:   ``PYTHONUTF8``, ``PYTHONWARNINGS`` ...).
#: - ``TZ``: the time zone, which ``time`` reads when it is imported (``TZ``, ``TZDIR``).
#: - ``LANG``, ``LC_``: the locale Python sets at start-up, hence the encodings of the standard
#:   streams and of file names (``LANG``, ``LANGUAGE``, ``LC_ALL``, ``LC_CTYPE`` ...).
#: - ``LD_``, ``DYLD_``: the dynamic loader's (``LD_LIBRARY_PATH``, ``LD_PRELOAD``; macOS'
#:   ``DYLD_LIBRARY_PATH``), read when a program starts: the starter's native libraries, NumPy's
#:   and pandas' included, are loaded already.
#: - ``OMP_``, ``MKL_``, ``OPENBLAS_``, ``NUMEXPR_``: the thread pools and kernels of OpenMP, MKL,
#:   OpenBLAS and numexpr, chosen when NumPy, pandas or numexpr load (``OMP_NUM_THREADS`` ...).
#: - ``MALLOC_``, ``GLIBC_TUNABLES``: the C library's allocator, tuned before ``main``.
STARTUP_VARIABLE_PREFIXES = (
    "PYTHON",
    "TZ",
    "LANG",
    "LC_",
    "LD_",
    "DYLD_",
    "OMP_",
    "MKL_",
    "OPENBLAS_",
    "NUMEXPR_",
    "MALLOC_",
    "GLIBC_TUNABLES",
)


def startup_variables(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of ``env`` that act at start-up (see :data:`STARTUP_VARIABLE_PREFIXES`)."""
    return {key: value for key, value in env.items() if key.startswith(STARTUP_VARIABLE_PREFIXES)}


#: What Kedro's console script (as pip and uv write it) runs.
_KEDRO_SCRIPT = "from kedro.framework.cli import main"


def _not_warm_startable(bin_folder: Path) -> str | None:
    """Why the steps of ``bin_folder`` cannot start warm: a starter runs its ``python`` and
    calls what its ``kedro`` would, so both must be there and ``kedro`` Kedro's own script."""
    python, kedro = bin_folder / "python", bin_folder / "kedro"
    if not python.is_file():
        return f"{python} does not exist"
    try:
        script = kedro.read_text(errors="replace")[:2000]
    except OSError as exc:
        return f"{kedro} cannot be read ({exc.strerror or exc})"
    if _KEDRO_SCRIPT not in script:
        return f"{kedro} is not Kedro's console script, so only running it is faithful"
    return None


class WarmStepProcess(StepProcess):
    """A step forked by the starter, followed through its leader's socket; same interface as
    :class:`StepProcess` (its ``pid`` and ``process_group`` are the leader's)."""

    warm = True

    def __init__(
        self, channel: socket.socket, leader: int, buffer: bytes, timeout: float | None
    ) -> None:
        super().__init__(None, timeout)
        self._channel = channel
        self._leader = leader
        self._buffer = buffer
        self._exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self._leader

    def end_fd(self) -> int | None:
        """The leader's socket, readable when it writes the step's status (or dies)."""
        return None if self._exit_code is not None else self._channel.fileno()

    @property
    def process_group(self) -> int:
        return self._leader

    def _ended(self) -> int | None:
        if self._exit_code is not None:
            return self._exit_code
        while select.select([self._channel], [], [], 0)[0]:
            try:
                chunk = self._channel.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:  # the leader died without a word: only SIGKILL does that
                self._exit_code = self._status_line() or -signal.SIGKILL
                break
            self._buffer += chunk
            if (code := self._status_line()) is not None:
                self._exit_code = code
                break
        if self._exit_code is not None:
            self._channel.close()
        return self._exit_code

    def _status_line(self) -> int | None:
        match = re.search(rb"^status (-?\d+)$", self._buffer, re.MULTILINE)
        return os.waitstatus_to_exitcode(int(match[1])) if match else None


class PendingStep:
    """A step forked by the starter and held at its gate until :meth:`go`.

    Meanwhile the step process, set up as the step (working copy, environment, log), does what
    Kedro's CLI does before it reads its command line (``step_starter.prepare_command``: the
    project's settings, the plugins' commands; nothing of the step's inputs, no hook), so that
    the engine can prepare a step while its upstream steps still run, and start it at once when
    they have succeeded. :meth:`cancel` ends it without running anything of its command.

    Attributes:
        leader: the step's leader, whose process group is the step's.
    """

    def __init__(
        self,
        starter: StepStarter,
        channel: socket.socket,
        leader: int,
        buffer: bytes,
        timeout: float | None,
    ) -> None:
        self._starter = starter
        self._channel: socket.socket | None = channel
        self.leader = leader
        self._buffer = buffer
        self._timeout = timeout

    def go(self) -> WarmStepProcess | None:
        """Let the step run; its process, whose timeout counts from now. ``None`` when its
        leader is gone (the step never ran): the caller starts it cold, and every later step
        starts cold too."""
        channel, self._channel = self._channel, None
        assert channel is not None, "a pending step goes once"
        try:
            channel.sendall(step_starter.GO)
        except OSError as exc:
            channel.close()
            self._starter._fail(f"it stopped answering ({exc.strerror or exc})")
            return None
        return WarmStepProcess(channel, self.leader, self._buffer, self._timeout)

    def cancel(self) -> None:
        """End the step without running it: its leader sees its socket closed, and its process
        group is killed (the step may still be preparing its command)."""
        if self._channel is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.leader, signal.SIGKILL)  # the leader waits for its go: still there
            self._channel.close()
            self._channel = None


class StepStarter:
    """The replay's starter process (see the module docstring).

    Args:
        bin_folder: the step environment's bin folder; its ``python`` runs the starter.
        folder: where the starter runs and writes its log (:data:`LOG_NAME`).
        notify: receives the one line saying that steps start cold from now on, and why.
        kept_log: where the log is kept once the command ends, the path that line names: by
            default where it is written; ``run --local`` copies an early starter's, written in a
            temporary folder, into the project (:meth:`copy_log`).
        temporary: the temporary folder ``folder`` is, which :meth:`remove_temporary_folder`
            removes (an early starter's).
    """

    def __init__(
        self,
        bin_folder: Path,
        folder: Path,
        *,
        notify: Callable[[str], None] | None = None,
        kept_log: Path | None = None,
        temporary: StarterFolder | None = None,
    ) -> None:
        self.bin_folder = Path(bin_folder)
        self.folder = Path(folder)
        self._temporary = temporary
        self.log_path = self.folder / LOG_NAME
        self.kept_log = Path(kept_log) if kept_log is not None else self.log_path
        self._notify = notify or (lambda _line: None)
        self._popen: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._ready = False
        self._ready_by = 0.0
        self.failure: str | None = None
        self._env: dict[str, str] = {}

    @property
    def python(self) -> Path:
        """The interpreter the starter runs: the step environment's."""
        return self.bin_folder / "python"

    @property
    def environment(self) -> dict[str, str]:
        """The environment it was started with (see :meth:`start`)."""
        return dict(self._env)

    def notify_to(self, notify: Callable[[str], None]) -> None:
        """Send the line saying that steps start cold from now on to ``notify`` instead."""
        self._notify = notify

    @property
    def pid(self) -> int | None:
        """The starter's process id, ``None`` before :meth:`start` or when it could not start."""
        return None if self._popen is None else self._popen.pid

    def start(self, env: Mapping[str, str]) -> StepStarter:
        """Start the starter with ``env`` (the steps' environment before each step's own
        variables); it warms up in the background. Never raises: a starter that cannot start
        makes every step start cold."""
        self._env = dict(env)
        self._ready_by = time.monotonic() + READY_SECONDS
        if (why := _not_warm_startable(self.bin_folder)) is not None:
            return self._fail(why)
        ours, theirs = socket.socketpair()
        watch_fd = replay_watch_fd()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self.log_path.open("ab") as log:
                self._popen = subprocess.Popen(
                    [
                        str(self.python),
                        "-P",
                        step_starter.__file__,
                        str(watch_fd),
                        str(theirs.fileno()),
                    ],
                    cwd=self.folder,
                    env=self._env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    pass_fds=(watch_fd, theirs.fileno()),
                )
        except OSError as exc:
            ours.close()
            return self._fail(f"it could not be started ({exc.strerror or exc})")
        finally:
            theirs.close()
        self._control = ours
        return self

    def warming(self) -> bool:
        """Whether the starter is still warming up: the replay's engine holds steps back
        meanwhile, and goes on with its loop (stop signals, timeouts, steps that end). Never
        blocks; a starter that exited, or still warms up :data:`READY_SECONDS` after its start,
        has failed, and is not warming."""
        if self._ready or self.failure is not None:
            return False
        assert self._control is not None and self._popen is not None
        if not select.select([self._control], [], [], 0)[0]:
            if time.monotonic() < self._ready_by:
                return True
            self._fail(f"it did not warm up within {READY_SECONDS:g} s")
            return False
        if self._control.recv(len(step_starter.READY)) == step_starter.READY:
            self._ready = True
            return False
        with contextlib.suppress(subprocess.TimeoutExpired):  # it closed its socket: it exits
            self._popen.wait(5)
        self._fail(self._last_log_line() or f"it exited ({self._popen.returncode})")
        return False

    def ready_fd(self) -> int | None:
        """While it warms up, a descriptor that becomes readable when the starter says it is
        ready (or exits), for the engine to wait on; ``None`` otherwise."""
        if self._ready or self.failure is not None or self._control is None:
            return None
        return self._control.fileno()

    def start_step(
        self,
        command: str,
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        timeout: float | None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> StepProcess | None:
        """The step forked by the starter, or ``None`` when it starts cold: its command or
        environment does not allow a warm start, the starter is not there or still warming up
        (:meth:`warming`), or it could not fork the step (out of processes: the reason is in its
        log, and a cold start says it too if it fails). ``None`` as well when ``stopping()``
        turns true while the step's leader is awaited: the caller then starts nothing.

        :meth:`prestart_step`, then :meth:`PendingStep.go` at once."""
        pending = self.prestart_step(
            command, cwd=cwd, env=env, log_path=log_path, timeout=timeout, stopping=stopping
        )
        return None if pending is None else pending.go()

    def prestart_step(
        self,
        command: str,
        *,
        cwd: Path,
        env: Mapping[str, str],
        log_path: Path,
        timeout: float | None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> PendingStep | None:
        """Have the starter fork the step and prepare it up to its go (:class:`PendingStep`);
        ``None`` when it starts cold (see :meth:`start_step`), or ``stopping()`` turned true.

        The step runs nothing of its command before :meth:`PendingStep.go`: a leader that
        answers too late, when the step is started cold, or whose step is cancelled, never runs
        it."""
        argv = execute_arguments(command, cwd)
        if argv is None or self.warming() or not self._ready:
            return None
        kedro = shutil.which("kedro", path=env.get("PATH"))
        if kedro is None or Path(kedro).parent != self.bin_folder:
            return None
        if startup_variables(env) != startup_variables(self._env):
            return None
        if not python_path_is_absolute(env):
            return None
        try:
            channel = self._ask_for_leader([kedro, *argv[1:]], cwd=cwd, env=env, log_path=log_path)
        except OSError as exc:
            self._fail(f"it stopped answering ({exc.strerror or exc})")
            return None
        try:
            answer = self._read_answer(channel, stopping)
            leader = re.match(rb"pid (\d+)\n", answer or b"")
            if answer is not None and leader is not None:
                channel.sendall(step_starter.PREPARE)  # in time: the step may set itself up
                return PendingStep(self, channel, int(leader[1]), answer[leader.end() :], timeout)
        except OSError as exc:  # the leader died before it was answered: it ran no step
            channel.close()
            self._fail(f"it stopped answering ({exc.strerror or exc})")
            return None
        channel.close()  # a leader that answers after this finds nobody to tell it to go
        if answer is None and not stopping():
            self._fail("it stopped answering")
        elif answer is not None and not answer.startswith(step_starter.NO_FORK):
            self._fail(f"it answered {answer[:80]!r}")
        return None

    def _ask_for_leader(
        self, argv: list[str], *, cwd: Path, env: Mapping[str, str], log_path: Path
    ) -> socket.socket:
        """Send the starter a step's request; returns the step's socket, on which its leader
        answers (see :mod:`.step_starter`)."""
        assert self._control is not None
        ours, theirs = socket.socketpair()
        request = {"argv": argv, "cwd": str(cwd), "env": dict(env), "log": str(log_path)}
        data = json.dumps(request).encode()
        try:
            ours.sendall(struct.pack(">I", len(data)) + data)
            socket.send_fds(self._control, [b"s"], [theirs.fileno()])
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        return ours

    def _read_answer(self, channel: socket.socket, stopping: Callable[[], bool]) -> bytes | None:
        """The leader's first line (``pid <pid>`` or, when a fork failed, ``no fork <reason>``),
        and what came after it in the same read; ``None`` when it has not come within
        :data:`LEADER_SECONDS`, the socket was closed, or ``stopping()`` turned true."""
        deadline = time.monotonic() + LEADER_SECONDS
        buffer = b""
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or stopping():
                return None
            if select.select([channel], [], [], min(left, WAIT_SLICE_SECONDS))[0]:
                chunk = channel.recv(256)
                if not chunk:
                    return None
                buffer += chunk
        return buffer

    def _last_log_line(self) -> str | None:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return None
        return next((line.strip() for line in reversed(lines) if line.strip()), None)

    def _fail(self, why: str) -> StepStarter:
        if self.failure is None:
            self.failure = why
            wrote = self.log_path.is_file() and self.log_path.stat().st_size > 0
            log = f" (its log: {self.kept_log})" if wrote else ""
            self._notify(
                f"Warm step starts are off: the step starter ({self.python}) failed: {why}. "
                f"The steps start cold, each a new interpreter{log}."
            )
        self._ready = False
        self.close()
        return self

    def close(self) -> None:
        """End the starter (steps it started go on, each followed by its own leader): one that
        is ready ends when it sees its control socket closed, one still warming up is killed."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._popen is not None:
            if self._ready:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._popen.wait(2)
            if self._popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self._popen.kill()
                self._popen.wait()

    def copy_log(self) -> None:
        """Copy the starter's log to :attr:`kept_log` (an early starter ran in a temporary folder),
        replacing what is there: a symlink in its place is replaced, never followed."""
        if self.kept_log == self.log_path:
            return
        with contextlib.suppress(OSError):
            self.kept_log.parent.mkdir(parents=True, exist_ok=True)
            log = self.log_path.read_text(encoding="utf-8", errors="replace")
            write_atomically(self.kept_log, log, durable=False)  # a log: no wait for the disk

    def remove_temporary_folder(self) -> None:
        """Remove an early starter's temporary folder (after :meth:`close` and :meth:`copy_log`);
        a starter running in a run's folder leaves it."""
        if self._temporary is not None:
            self._temporary.remove()


def python_path_is_absolute(env: Mapping[str, str]) -> bool:
    """Whether every entry of ``env``'s ``PYTHONPATH`` is an absolute path. A relative or empty
    entry is made absolute against the current folder when an interpreter starts: the starter's
    folder, not the step's working copy, so such a step starts cold."""
    entries = env.get("PYTHONPATH")
    return entries is None or all(Path(entry).is_absolute() for entry in entries.split(os.pathsep))


def early_starter(
    bin_folder: Path,
    project_path: Path,
    *,
    kept_log: Path,
    notify: Callable[[str], None] | None = None,
) -> StepStarter:
    """A starter for the steps of ``project_path``, started now in a temporary folder, before
    the job is compiled and checked, so that its imports overlap the compile and a refused job
    leaves nothing in the project; its log is kept at ``kept_log`` once the caller copied it
    there (:meth:`StepStarter.copy_log`). The folders that earlier ones left, killed with
    ``kill -9``, are removed first (:mod:`.starter_folders`)."""
    folder = StarterFolder.make()
    starter = StepStarter(
        bin_folder, folder.path, notify=notify, kept_log=kept_log, temporary=folder
    )
    return starter.start(steps_environment(bin_folder, project_path))
