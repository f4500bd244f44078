"""The warm starter: one process per replay, in the step environment, that has imported Kedro
and the runtime once and forks a fresh process for each step (see :mod:`.warm_starts`).

Run as a script by the step environment's own interpreter, ``python -P step_starter.py WATCH_FD
CONTROL_FD``, never imported there: the step environment holds what a step image holds
(Kedro, kedro-azureml-runtime, the project's dependencies) and not this package, so the file
imports the standard library only at its top, Kedro and the runtime inside :func:`warm_up`, and
its sibling :mod:`.step_supervisor` by path. ``-P`` keeps this file's folder off ``sys.path``
(its siblings' names, ``snapshot``, ``display``, would shadow installed modules); ``-I`` is not
used because a cold step honours ``PYTHONPATH`` and the user site as well, and so must the starter.
Why not in the runtime package: the starter is the replay's machinery, versioned with the
engine that talks to it, and a step image has no use for it.

Protocol, over the Unix socket ``CONTROL_FD`` (the replay holds the other end):

- the starter writes ``ready\\n`` once warmed up, or exits with the reason on stderr;
- for each step the replay sends one byte with a new socket attached (``SCM_RIGHTS``), after
  writing the step's request into that socket: a 4-byte big-endian length and a JSON object
  ``{"argv", "cwd", "env", "log"}``;
- the starter forks the step's *leader*, which starts a new session (its process group is the
  step's, as a cold step's supervisor's is), forks the step process, held at a gate (a pipe),
  and writes ``pid <pid>\\n`` on the step's socket;
- the replay answers ``prepare\\n`` once it has read the pid in time: the leader opens the gate
  a first time, and the step process sets itself up as the step (:func:`become_step`), does what
  Kedro's console script does before it reads its command line (:func:`prepare_command`: nothing
  of the step's inputs, no Kedro hook) and waits at the gate again;
- the replay answers ``go\\n``, at once or once the step's upstream steps have succeeded (the
  engine prepares steps ahead, see ``warm_starts.PendingStep``): the leader opens the gate, the
  step runs the rest of its command (:func:`run_step`), and the leader waits for it like
  :func:`.step_supervisor.watch`; it writes ``status <wait status>\\n`` when the step ends, then
  exits as the step did. A leader that dies without writing its status was killed with SIGKILL
  (it ignores SIGINT and SIGTERM). A replay that has given up on the leader (it came too late,
  or the replay is stopping, or the step will not run after all) closes the socket instead, at
  either answer: the leader kills its group, the step with it wherever it got to. Without the
  first answer the step has done nothing, so it cannot run twice when the replay starts it cold;
- when the starter cannot fork the leader, or the leader the step (out of processes), it writes
  ``no fork <reason>\\n`` instead of the pid, and the replay starts the step cold.

The starter ends when the replay closes its end of the control socket, or dies (``WATCH_FD``,
the replay's supervision pipe, becomes readable). Steps already started are their leaders'
business, and end with the replay like cold ones.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

#: Seconds between two reaps of ended leaders while no request comes.
REAP_SECONDS = 0.5
READY = b"ready\n"
PREPARE = b"prepare\n"
GO = b"go\n"
#: What the leader writes into the step's gate for each word of the replay.
OPENS_PREPARE, OPENS_GO = b"p", b"g"
NO_FORK = b"no fork "
#: The key under which a step process's request holds the read end of its gate.
GATE = "gate"
#: The names Kedro's console script ``main`` uses when it is ``_init_plugins()``, then
#: ``KedroCLI(project_path=find_kedro_project(Path.cwd()) or Path.cwd())()``, the part before
#: ``()`` being what a step prepares before its go (see :func:`prepare_command`).
_KEDRO_MAIN_NAMES = ("_init_plugins", "KedroCLI", "find_kedro_project", "Path", "cwd")
#: The loggers that existed when Kedro first configured logging in the warm-up: a cold step has
#: these when it configures logging; it creates every other one after (see :func:`warm_up`).
_LOGGERS_AT_CONFIGURATION: frozenset[str] = frozenset()
#: What every step imports too, where installed: the local file system every dataset's path is
#: on, the runtime's modules that ``execute`` and the template's settings import (an older runtime
#: may lack some).
_ALSO_IMPORTED = (
    "fsspec.implementations.local",
    "kedro_azureml_runtime.params",
    "kedro_azureml_runtime.key_vault",
)


def warm_up() -> None:
    """Import what every step imports before it runs a node, and nothing of its project.

    Kedro's CLI with the commands of its plugins (``kedro`` loads them all on every call), the
    modules of the plugins' hooks (every session registers them), the session, runners, config and
    io, the runtime's ``execute``; and pandas, NumPy and ibis when installed: a data project's
    datasets and nodes import them (and a runtime older than its ``parameter_datasets``, or Kedro's
    own copy-mode check of a ``MemoryDataset`` outside it, for any value), the largest part of a
    step's start-up in a data project. The project's own modules are left to each step, which
    imports them from its working copy as a cold step does.

    Kedro's CLI comes first, as in Kedro's console script: importing it imports
    ``kedro.framework.project``, which configures logging; the loggers existing then are those a
    cold step has when it does (:func:`redo_import_time_setup` needs to know them).
    """
    global _LOGGERS_AT_CONFIGURATION
    import logging
    import mimetypes
    from importlib.metadata import entry_points

    import kedro.framework.cli

    _LOGGERS_AT_CONFIGURATION = frozenset(logging.root.manager.loggerDict)
    import kedro.config
    import kedro.framework.context  # the session imports it (CONTEXT_CLASS) in every step
    import kedro.framework.session
    import kedro.framework.session.store
    import kedro.io
    import kedro.runner  # noqa: F401
    from kedro.framework.cli.utils import load_entry_points

    for group in ("init", "global", "project"):
        load_entry_points(group)
    for hook in entry_points(group="kedro.hooks"):
        importlib.import_module(hook.module)
    import kedro_azureml_runtime.execute
    import kedro_azureml_runtime.runner  # noqa: F401

    for name in (*_ALSO_IMPORTED, "pandas", "numpy", "ibis"):
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    mimetypes.init()  # Kedro's config loader guesses the type of conf/ in every session
    # Kedro's settings (dynaconf) walk the stack with `inspect.stack()` in every session, which
    # maps each module loaded so far to its file, once per process; mapped here, every step
    # inherits the map and adds its own modules only (about 0.04 s of each warm step).
    import inspect

    inspect.stack()


def serve(watch_fd: int, control: socket.socket) -> dict[str, Any] | None:
    """Answer requests until the replay ends; in a forked step process, return its request."""
    while True:
        _reap()
        readable, _, _ = select.select([control, watch_fd], [], [], REAP_SECONDS)
        if watch_fd in readable:
            return None
        if control not in readable:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return None
        if not data:
            return None
        if not fds:
            continue
        step = socket.socket(fileno=fds[0])
        sys.stdout.flush()
        sys.stderr.flush()
        # The starter's objects go to the collector's permanent generation: a step's collections,
        # the one at its exit included, then never walk them, and so never copy the pages they
        # share with the starter (that walk took most of a warm step's exit). The step's own
        # objects are collected as in a cold step.
        gc.freeze()
        try:
            leader = os.fork()
        except OSError as exc:  # the replay starts this step cold; the starter serves on
            _refuse(step, exc)
            leader = None
        if leader == 0:
            control.close()
            return _lead(watch_fd, step)
        step.close()


def _lead(watch_fd: int, step: socket.socket) -> dict[str, Any] | None:
    """Become the leader of a new session, fork the step process, let it go once the replay
    says so, and follow it. Returns the request in the step process; the leader itself never
    returns."""
    status = 1 << 8
    try:
        os.setsid()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        request = _read_request(step)
        gate, opener = os.pipe()
        try:
            child = os.fork()
        except OSError as exc:
            _refuse(step, exc)
            raise
        if child == 0:
            os.close(opener)
            step.close()
            os.close(watch_fd)
            request[GATE] = gate
            return request
        os.close(gate)
        step.sendall(f"pid {os.getpid()}\n".encode())
        for word, opening in ((PREPARE, OPENS_PREPARE), (GO, OPENS_GO)):
            try:
                told = _read_exactly(step, len(word))
            except EOFError:  # the replay gave up on this step: it starts it cold, or stops
                told = b""
            if told != word:
                _say("step leader: the replay gave up on this step's start: it does not run here")
                os.killpg(0, signal.SIGKILL)  # the step, wherever it got to, and this leader
            with contextlib.suppress(BrokenPipeError):  # it died at the gate: its status tells
                os.write(opener, opening)
        os.close(opener)
        status = _supervisor().watch(watch_fd, child)
        step.sendall(f"status {status}\n".encode())
    except BaseException as exc:  # the leader reports, it never raises
        _say(f"step leader: {exc!r}")
    _supervisor().exit_as(status)
    os._exit(1)


def _refuse(step: socket.socket, error: OSError) -> None:
    """Tell the replay that a fork for this step failed, and why (the replay starts it cold)."""
    _say(f"cannot fork for a step: {error.strerror or error}")
    try:
        step.sendall(NO_FORK + f"{error.strerror or error}\n".encode())
    except OSError as exc:
        _say(f"cannot tell the replay: {exc!r}")


def _read_request(step: socket.socket) -> dict[str, Any]:
    (length,) = struct.unpack(">I", _read_exactly(step, 4))
    return json.loads(_read_exactly(step, length))


def _read_exactly(step: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = step.recv(size - len(data))
        if not chunk:
            raise EOFError("the replay closed the step's socket")
        data += chunk
    return data


def become_step(request: dict[str, Any]) -> int:
    """Turn this forked process into the step, as a cold start would set it up: the default
    signal handlers of a new interpreter, stdin from ``/dev/null``, stdout and stderr to the
    step's log, exactly the step's environment and working copy, no other open file but its
    gate (returned: :func:`wait_at_gate` closes it at the go), and the command line of ``kedro``."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(signum, signal.SIG_IGN)  # as Python sets them at start-up
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    gate = request[GATE]
    os.closerange(3, gate)
    os.closerange(gate + 1, _max_fd())
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["PWD"] = request["cwd"]  # as /bin/sh sets it for a cold step
    sys.argv = list(request["argv"])
    sys.dont_write_bytecode = "PYTHONDONTWRITEBYTECODE" in os.environ
    redo_import_time_setup()
    return gate


def redo_import_time_setup() -> None:
    """Do again, in the step's folder and environment, what the warm-up's imports set up from
    the starter's: Kedro configures logging when ``kedro.framework.project`` is imported, from
    ``KEDRO_LOGGING_CONFIG`` or the current folder's ``conf/logging.yml``; rich makes its global
    console (width, colour, ``NO_COLOR``/``FORCE_COLOR``) when a handler first asks for it;
    NumPy seeds its global random state from the system's entropy when imported, and a fork
    copies it (Python's own ``random`` reseeds itself after a fork)."""
    rich = sys.modules.get("rich")
    if rich is not None:
        rich._console = None
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:  # seeded once at import: each step draws its own numbers
        numpy_random.seed()
    project = sys.modules.get("kedro.framework.project")
    if project is not None:
        _configure_logging_again(project)


def _configure_logging_again(project: ModuleType) -> None:
    """Configure Kedro's logging again (``dictConfig``: the starter's handlers are replaced), to
    the state a cold step's configuration leaves.

    ``dictConfig`` resets the loggers that exist and that it does not name: it disables them
    unless the configuration sets ``disable_existing_loggers: false`` (Python's default is true),
    and resets the children of the loggers it names. A cold step configures logging before it
    imports the runtime, the plugins and their hooks, so their loggers escape it; here they exist
    already, so each logger created after :data:`_LOGGERS_AT_CONFIGURATION` and not named by the
    configuration gets back the state its module gave it.
    """
    import logging

    later = {
        logger: (logger.disabled, logger.level, logger.propagate, list(logger.handlers))
        for name, logger in logging.root.manager.loggerDict.items()
        if name not in _LOGGERS_AT_CONFIGURATION and isinstance(logger, logging.Logger)
    }
    project.LOGGING.__init__()
    named = project.LOGGING.data.get("loggers") or {}
    for logger, (disabled, level, propagate, handlers) in later.items():
        if logger.name not in named:
            logger.disabled, logger.propagate, logger.handlers = disabled, propagate, handlers
            logger.setLevel(level)


def prepare_command() -> Callable[[], Any]:
    """Do what the step environment's ``kedro`` console script does before it reads its command
    line, and return what is left of it (the replay starts warm only when that script is
    Kedro's own, see ``warm_starts.StepStarter.start``).

    That first part (plugins' ``init`` hooks, then ``KedroCLI``: the project's ``pyproject.toml``
    and settings, the plugins' commands and CLI hooks) needs nothing of the step's inputs, so the
    step does it while it waits for its go, and its upstream step may still run (see
    ``warm_starts.PendingStep``). No hook of the project or of a plugin is called before the go:
    the first, ``before_command_run``, comes with the command line. What it raises is raised
    after the go, where a cold step raises it. With a Kedro whose ``main`` does something else
    (:data:`_KEDRO_MAIN_NAMES`), all of ``main`` runs after the go.
    """
    main = importlib.import_module("kedro.framework.cli").main  # what the console script calls
    cli = importlib.import_module("kedro.framework.cli.cli")
    if main is not cli.main or main.__code__.co_names != _KEDRO_MAIN_NAMES:
        return main
    try:
        cli._init_plugins()
        return cli.KedroCLI(project_path=cli.find_kedro_project(Path.cwd()) or Path.cwd())
    except BaseException as exc:  # raised after the go, as a cold step raises it
        error = exc

        def raise_it() -> NoReturn:
            raise error

        return raise_it


def wait_at_gate(gate: int, opening: bytes) -> None:
    """Wait at the gate until the leader opens it with ``opening``; end this process at once,
    running nothing more, when the leader ends without (the replay gave up on the step). The
    gate is closed once it opened for the go."""
    try:
        opened = os.read(gate, 1) == opening
    except OSError:
        opened = False
    if not opened:
        os._exit(0)
    if opening == OPENS_GO:
        os.close(gate)


def _say(line: str) -> None:
    """One line on stderr (the starter's log; the replay shows the last one)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 1024


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


_SUPERVISOR: ModuleType | None = None


def _supervisor() -> ModuleType:
    """:mod:`.step_supervisor`, loaded from this file's folder (this package is not importable
    in the step environment)."""
    global _SUPERVISOR
    if _SUPERVISOR is None:
        path = Path(__file__).with_name("step_supervisor.py")
        spec = importlib.util.spec_from_file_location("_kedro_azureml_step_supervisor", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _SUPERVISOR = module
    return _SUPERVISOR


def main(watch_fd: int, control_fd: int) -> dict[str, Any] | None:
    """Warm up, say so, and serve; returns a step's request in a step process."""
    control = socket.socket(fileno=control_fd)
    _supervisor()
    try:
        warm_up()
    except Exception as exc:  # the reason goes to the replay in one line
        _say(f"cannot import Kedro and the runtime: {exc!r}")
        sys.exit(3)
    if threading.active_count() > 1:  # forking a process with threads may deadlock its copy
        names = ", ".join(t.name for t in threading.enumerate() if t is not threading.main_thread())
        _say(f"an import started a thread ({names}); forking is unsafe")
        sys.exit(3)
    # No collection here: the warm-up leaves about ten objects of garbage, and a collection walks
    # all of its ~60,000 (17 ms before the first step's fork); they are frozen with the rest.
    control.sendall(READY)
    return serve(watch_fd, control)


def run_step(command: Callable[[], Any]) -> NoReturn:
    """Run the rest of the step's ``kedro`` command (see :func:`prepare_command`) and exit as
    its interpreter would, up to its teardown.

    What Python does when a script ends is done here, in its order: an exception's traceback
    (``sys.excepthook``) or ``sys.exit``'s message is printed; the threads are shut down as
    ``Py_FinalizeEx`` does it (``threading._shutdown``: the callbacks of
    ``threading._register_atexit``, which ``concurrent.futures`` and joblib rely on, then every
    non-daemon thread joined, those started meanwhile too); the ``atexit`` handlers run (the ones
    of the starter's imports too: ``logging`` flushes and closes the step's handlers); stdout and
    stderr are flushed (a failure is reported and makes the status 120, as Python's), and so is
    the C library's stdio (what a native library printed). Then the process exits with the same
    status, without the interpreter's teardown: deallocating every module's objects writes to
    each page the step shares with the starter (reference counts), which copied most of them,
    about 35 ms of each warm step. What a cold step's teardown still does after its exit handlers
    (flushing a file a module left open and unflushed, the ``__del__`` of objects held by module
    globals) is not done: ``--cold`` is the choice for a step that depends on it. A
    ``KeyboardInterrupt`` raised by the step ends it as Python does (by ``SIGINT``, after its
    teardown)."""
    try:
        code = command()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        raise
    except BaseException:  # printed as Python prints it, and status 1, as Python's
        sys.excepthook(*sys.exc_info())
        code = 1
    status = _exit_status(code)
    try:
        threading._shutdown()  # type: ignore[attr-defined]  # Py_FinalizeEx's own call
    except BaseException as exc:  # a KeyboardInterrupt while joining: reported, exit goes on
        _report_ignored(threading, exc)
    atexit._run_exitfuncs()  # CPython's own call at exit, every handler in its order
    if (error := _flush(sys.stdout)) is not None:
        _report_ignored(sys.stdout, error)
        status = 120
    _flush(sys.stderr)
    for stream in (sys.__stdout__, sys.__stderr__):  # replaced ones are flushed at teardown
        _flush(stream)
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)
    os._exit(status)


def _exit_status(code: object) -> int:
    """The exit status Python gives ``sys.exit(code)``, printing the message it prints."""
    if code is None:
        return 0
    if isinstance(code, int):
        # a C long, then the low byte: out of a long's range it is -1, so 255
        return code & 0xFF if -(2**63) <= code < 2**63 else 0xFF
    sys.stderr.write(f"{code}\n")  # sys.exit("message"): printed, and status 1
    return 1


def _flush(stream: Any) -> Exception | None:
    """Flush ``stream`` (not a closed or missing one); the error that raised, if any."""
    if stream is None or getattr(stream, "closed", False):
        return None
    try:
        stream.flush()
    except Exception as exc:
        return exc
    return None


def _report_ignored(where: object, error: BaseException) -> None:
    """What ``PyErr_WriteUnraisable`` writes for an error at exit, on stderr."""
    import traceback

    with contextlib.suppress(Exception):
        sys.stderr.write(f"Exception ignored in: {where!r}\n")
        traceback.print_exception(error, file=sys.stderr)


if __name__ == "__main__":
    step_request = main(int(sys.argv[1]), int(sys.argv[2]))
    if step_request is None:  # the replay ended: nothing of the starter needs a teardown
        sys.stderr.flush()
        os._exit(0)
    wait_at_gate(step_request[GATE], OPENS_PREPARE)  # the replay took this step: set it up
    step_gate = become_step(step_request)
    del step_request
    step_command = prepare_command()
    wait_at_gate(step_gate, OPENS_GO)
    run_step(step_command)
