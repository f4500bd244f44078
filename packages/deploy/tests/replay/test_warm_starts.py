"""Warm step starts are as isolated as cold ones: each step a fresh copy of a starter that ran no
step, in the step environment's interpreter; and a starter that fails costs only the warm start."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from kedro_azureml_deploy.replay.step_variables import python_bin_folder, steps_environment
from kedro_azureml_deploy.replay.warm_starts import (
    LOG_NAME,
    StepStarter,
    early_starter,
    execute_arguments,
    startup_variables,
)
from project_factory import (
    NodeSpec,
    chain,
    pipeline_dataset,
    read_hook_log,
)

from .conftest import compile_job, process_ends, replay

OFF_LINE = "Warm step starts are off"

#: Node functions changing module-level state of the project and of a module the starter imported.
STATE_FUNCTIONS = '''
import json
import sys

import kedro

TOUCHED = {"by": None}


def touch_state(value):
    """Change module globals: the project's, and one of a module the warm starter imported."""
    TOUCHED["by"] = "first"
    kedro.touched_by_a_step = True
    return value


def assert_pristine(value):
    if TOUCHED["by"] is not None or hasattr(kedro, "touched_by_a_step"):
        raise RuntimeError(f"module state of another step leaked: {TOUCHED}")
    return value


def draw(value):
    """What a step gets at start-up that a fork could copy from the starter."""
    import os

    import numpy

    return {"draw": float(numpy.random.rand()), "pwd": os.environ["PWD"], "cwd": os.getcwd()}


def describe_interpreter(value):
    return {"prefix": sys.prefix, "executable": sys.executable, "argv0": sys.argv[0]}


def describe_time_zone(value):
    """The time zone ``time`` read from ``TZ`` when it was imported."""
    import time

    return {"tzname": list(time.tzname)}
'''


def state_project(make_project, nodes):
    return make_project(
        nodes=nodes,
        extra_functions=STATE_FUNCTIONS,
        catalog={"report": pipeline_dataset("report.json", "json.JSONDataset")},
    )


def starter_log(report) -> Path:
    return report.run_dir / LOG_NAME


def step_starts_of(report) -> dict[str, str]:
    """How each step of the run started, as ``run.json`` records it."""
    steps = json.loads((report.run_dir / "run.json").read_text())["steps"]
    return {name: step["start"] for name, step in steps.items()}


@pytest.mark.slow
def test_module_state_a_warm_step_changes_is_not_seen_by_the_next_step(make_project):
    nodes = [
        NodeSpec("first", "touch_state", ["params:seed"], ["a"]),
        NodeSpec("second", "assert_pristine", ["a"], ["b"]),
    ]
    project = state_project(make_project, nodes)

    result = replay(project, compile_job(project), max_parallel=1)

    assert result.report.ok, result.report.step("second").log_path.read_text()
    assert starter_log(result.report).is_file() and OFF_LINE not in result.output
    assert step_starts_of(result.report) == {"first": "warm", "second": "warm"}


@pytest.mark.slow
def test_a_warm_step_calls_the_same_hooks_in_the_same_order_as_a_cold_one(hook_recording_chain):
    project, hook_log = hook_recording_chain(3)
    job_file = compile_job(project)
    calls = {}
    for mode in ("warm", "cold"):
        hook_log.unlink(missing_ok=True)
        result = replay(project, job_file, max_parallel=1, warm=mode == "warm")
        assert result.report.ok
        assert set(step_starts_of(result.report).values()) == {mode}
        calls[mode] = read_hook_log(hook_log)

    assert calls["warm"] == calls["cold"]
    assert sum(call["hook"] == "after_context_created" for call in calls["warm"]) == 3


@pytest.mark.slow
def test_a_step_that_sets_a_start_up_variable_starts_cold_and_sees_its_value(make_project):
    """``time`` reads ``TZ`` when it is imported, which the starter did with the replay's."""
    nodes = [NodeSpec("zone", "describe_time_zone", ["params:seed"], ["report"])]
    project = state_project(make_project, nodes)
    job_file = compile_job(project, job={"env_vars": {"TZ": "XYZ-3"}})

    result = replay(project, job_file)

    assert result.report.ok, result.report.step("zone").log_path.read_text()
    assert step_starts_of(result.report) == {"zone": "cold"}
    report_file = result.report.run_dir / "zone" / "outputs" / "report" / "report.json"
    assert json.loads(report_file.read_text()) == {"tzname": ["XYZ", "XYZ"]}


STARTER_ENV = {"PATH": "/env/bin", "KEDRO_ENV": "base", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "2"}


@pytest.mark.parametrize(
    "step_env",
    [
        {**STARTER_ENV, "PYTHONHASHSEED": "0"},
        {**STARTER_ENV, "TZ": "Asia/Tokyo"},
        {**STARTER_ENV, "TZDIR": "/opt/zoneinfo"},
        {**STARTER_ENV, "LANG": "de_DE.UTF-8"},
        {**STARTER_ENV, "LC_ALL": "C"},
        {**STARTER_ENV, "LD_LIBRARY_PATH": "/opt/cuda/lib64"},
        {**STARTER_ENV, "LD_PRELOAD": "/usr/lib/libjemalloc.so"},
        {**STARTER_ENV, "DYLD_LIBRARY_PATH": "/opt/lib"},
        {**STARTER_ENV, "OMP_NUM_THREADS": "1"},
        {**STARTER_ENV, "MKL_NUM_THREADS": "1"},
        {**STARTER_ENV, "OPENBLAS_NUM_THREADS": "1"},
        {**STARTER_ENV, "NUMEXPR_MAX_THREADS": "1"},
        {**STARTER_ENV, "MALLOC_ARENA_MAX": "2"},
        {**STARTER_ENV, "GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"},
        {key: value for key, value in STARTER_ENV.items() if key != "OMP_NUM_THREADS"},
    ],
    ids=lambda env: next(
        (f"{key}={env[key]}" for key in env if env[key] != STARTER_ENV.get(key)), "unset"
    ),
)
def test_a_start_up_variable_set_changed_or_unset_tells_a_step_from_the_starter(step_env):
    assert startup_variables(step_env) != startup_variables(STARTER_ENV)


def test_other_variables_of_a_step_leave_its_start_up_as_the_starter_s():
    step_env = {**STARTER_ENV, "KEDRO_ENV": "prod", "PATH": "/other/bin", "MLFLOW_RUN_ID": "r"}

    assert startup_variables(step_env) == startup_variables(STARTER_ENV)


def _step_environment(tmp_path: Path) -> Path:
    """A separate environment (``python -m venv``) seeing this one's packages through a ``.pth``
    file, with a ``kedro`` console script of its own: a stand-in for the built step env."""
    venv = tmp_path / "step-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    outer = [p for p in sys.path if p.startswith(sys.prefix) and Path(p).is_dir()]
    outer += [p for p in sys.path if p.endswith("src") and "deploy" not in p]
    (site / "outer.pth").write_text("".join(f"{path}\n" for path in outer))  # + editables
    kedro = venv / "bin" / "kedro"
    kedro.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom kedro.framework.cli import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    kedro.chmod(0o755)
    return venv


@pytest.mark.slow
def test_the_starter_runs_the_interpreter_of_the_step_environment(make_project, tmp_path):
    venv = _step_environment(tmp_path)
    nodes = [NodeSpec("describe", "describe_interpreter", ["params:seed"], ["report"])]
    project = state_project(make_project, nodes)
    job_file = compile_job(project)

    seen = {}
    for mode in ("warm", "cold"):
        result = replay(project, job_file, python=venv, warm=mode == "warm")
        assert result.report.ok, result.report.step("describe").log_path.read_text()
        report_file = result.report.run_dir / "describe" / "outputs" / "report" / "report.json"
        seen[mode] = report_file.read_text()
        assert step_starts_of(result.report) == {"describe": mode}
        if mode == "warm":
            assert starter_log(result.report).is_file() and OFF_LINE not in result.output

    assert seen["warm"] == seen["cold"]
    assert f'"prefix": "{venv}"' in seen["warm"]


def _broken_step_environment(tmp_path: Path) -> Path:
    """A step environment whose ``python`` says it is broken and exits 3, and whose Kedro's
    console script runs this interpreter: the starter fails, the cold steps run."""
    venv = _step_environment(tmp_path)
    broken = venv / "bin" / "python"
    broken.unlink()
    broken.write_text("#!/bin/sh\necho 'this interpreter is broken' >&2\nexit 3\n")
    broken.chmod(0o755)
    (venv / "bin" / "kedro").write_text(
        f"#!{sys.executable}\nimport sys\nfrom kedro.framework.cli import main\n"
        "if __name__ == '__main__':\n    sys.exit(main())\n"
    )
    return venv


def off_line(output: str) -> str:
    """The one line saying that warm step starts are off."""
    lines = [line for line in output.splitlines() if OFF_LINE in line]
    assert len(lines) == 1, output
    return lines[0]


def log_named_by(line: str) -> Path | None:
    """The starter's log that ``line`` names, if any."""
    named = re.search(r"\(its log: (.+)\)\.$", line)
    return Path(named[1]) if named else None


@pytest.mark.slow
def test_steps_start_cold_with_one_line_when_the_starter_cannot_start(make_project, tmp_path):
    venv = _broken_step_environment(tmp_path)
    nodes, catalog = chain(2)
    project = make_project(nodes=nodes, catalog=catalog)

    result = replay(project, compile_job(project), python=venv)

    assert result.report.ok
    line = off_line(result.output)
    assert "this interpreter is broken" in line
    assert "Traceback" not in result.output
    assert log_named_by(line) == starter_log(result.report)
    assert "this interpreter is broken" in starter_log(result.report).read_text()


@pytest.mark.slow
def test_the_line_of_run_local_names_the_starter_log_it_keeps_in_the_project(
    make_project, tmp_path
):
    """``run --local`` starts its starter in a temporary folder that it deletes at the end."""
    venv = _broken_step_environment(tmp_path)
    nodes, catalog = chain(2)
    project = make_project(nodes=nodes, catalog=catalog)
    compile_job(project)

    python = str(venv / "bin" / "python")
    result = project.kedro("azureml", "run", "-j", "train", "--local", "--python", python)

    assert result.returncode == 0, result.stdout + result.stderr
    kept = log_named_by(off_line(result.stdout))
    assert kept == project.path / ".azureml-local" / LOG_NAME
    assert "this interpreter is broken" in kept.read_text()


@pytest.mark.slow
def test_the_line_names_no_log_when_the_starter_wrote_none(make_project, tmp_path):
    venv = _step_environment(tmp_path)
    (venv / "bin" / "kedro").write_text(
        f'#!/bin/sh\nexec {Path(sys.executable).parent / "kedro"} "$@"\n'
    )
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])

    result = replay(project, compile_job(project), python=venv)

    assert result.report.ok
    line = off_line(result.output)
    assert "is not Kedro's console script" in line
    assert log_named_by(line) is None and "its log" not in line, line


KILL_STARTER = '''
import os
import signal


def kill_the_starter(value):
    """The step's leader is the process's parent; the starter is the leader's parent."""
    leader = os.getppid()
    with open(f"/proc/{leader}/stat") as stat:
        starter = int(stat.read().rsplit(")", 1)[1].split()[1])
    os.kill(starter, signal.SIGKILL)
    return value
'''


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
def test_steps_start_cold_with_one_line_when_the_starter_dies_during_the_run(make_project):
    nodes = [
        NodeSpec("killer", "kill_the_starter", ["params:seed"], ["a"]),
        NodeSpec("after", "add_one", ["a"], ["b"]),
        NodeSpec("last", "add_one", ["b"], ["c"]),
    ]
    project = make_project(nodes=nodes, extra_functions=KILL_STARTER)

    result = replay(project, compile_job(project), max_parallel=1)

    assert result.report.ok, [(s.name, s.status) for s in result.report.steps]
    assert sum(OFF_LINE in line for line in result.output.splitlines()) == 1, result.output
    assert "Traceback" not in result.output
    starts = step_starts_of(result.report)
    # "after" is warm when it was prepared before the starter died (it is, but for a slow engine)
    assert starts["killer"] == "warm" and starts["after"] in {"warm", "cold"}
    assert starts["last"] == "cold"


@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        (
            "kedro azureml execute --node a --az-output x '/tmp/o ut'",
            ["kedro", "azureml", "execute", "--node", "a", "--az-output", "x", "/tmp/o ut"],
        ),
        (
            "kedro azureml execute --params '{\"a\": [1, 2]}'",
            ["kedro", "azureml", "execute", "--params", '{"a": [1, 2]}'],
        ),
        (
            "cd /work/code && kedro azureml execute --node a",
            ["kedro", "azureml", "execute", "--node", "a"],
        ),
        ("cd /elsewhere && kedro azureml execute --node a", None),
        ("kedro azureml execute --node a; rm -rf data", None),
        ("kedro azureml execute --param-input p string \"$(cat <<'X'\nv\nX\n)\"", None),
        ("python train.py", None),
        ("FOO=1 kedro azureml execute", None),
        ("kedro run", None),
        ("kedro azureml execute --node 'unbalanced", None),
    ],
)
def test_only_a_plain_execute_command_starts_warm(command, arguments):
    assert execute_arguments(command, Path("/work/code")) == arguments


def test_the_warm_modules_import_alone_in_a_fresh_interpreter():
    for module in ("warm_starts", "step_starter"):
        name = f"kedro_azureml_deploy.replay.{module}"
        subprocess.run([sys.executable, "-c", f"import {name}"], check=True, env=os.environ)


def test_the_starter_script_imports_nothing_of_the_deploy_package_at_its_top():
    from kedro_azureml_deploy.replay import step_starter

    script = textwrap.dedent(
        f"""\
        import runpy, sys
        runpy.run_path({step_starter.__file__!r}, run_name="not_main")
        leaked = sorted(m for m in sys.modules if m.startswith(("kedro", "azure")))
        assert not leaked, leaked
        """
    )
    subprocess.run([sys.executable, "-I", "-c", script], check=True)


PROJECT_LOGGING = """\
version: 1
disable_existing_loggers: false
formatters:
  marked:
    format: "PROJECT-LOGGING %(name)s: %(message)s"
handlers:
  console:
    class: logging.StreamHandler
    formatter: marked
    stream: ext://sys.stderr
root:
  handlers: [console]
  level: INFO
"""


@pytest.mark.slow
def test_a_warm_step_logs_with_the_logging_configuration_of_its_project(make_project):
    """Kedro reads ``conf/logging.yml`` from the current folder when it is imported, which the
    starter did in a folder of its own: a warm step sets logging up again in its working copy."""
    nodes, catalog = chain(2)
    project = make_project(
        nodes=nodes, catalog=catalog, extra_files={"conf/logging.yml": PROJECT_LOGGING}
    )
    job_file = compile_job(project)

    for mode in ("warm", "cold"):
        result = replay(project, job_file, max_parallel=1, warm=mode == "warm")
        assert result.report.ok
        assert set(step_starts_of(result.report).values()) == {mode}
        log = result.report.step("node_1").log_path.read_text()
        assert "PROJECT-LOGGING kedro" in log, (mode, log)


#: A project's logging as Kedro's template writes it, but leaving ``disable_existing_loggers`` at
#: its default (true): dictConfig then disables every logger that exists and that it does not name.
LOGGING_DISABLING_EXISTING = PROJECT_LOGGING.replace(
    "disable_existing_loggers: false\n", ""
).replace("root:", "loggers:\n  kedro:\n    level: INFO\n  demo_project:\n    level: INFO\nroot:")

#: A node logging through loggers that the runtime's and a plugin hook's modules create when
#: imported: in a cold step after Kedro configured logging, in a warm one in the starter, before.
LOG_THROUGH_PLUGIN_LOGGERS = """
import logging


def log_through_plugin_loggers(value):
    for name in ("kedro_azureml_runtime.execute", "kedro_azureml_runtime.hooks.local_run_hook"):
        logging.getLogger(name).warning("%s speaks", name)
    return value
"""


@pytest.mark.slow
def test_loggers_of_the_runtime_and_plugins_log_in_a_warm_step_as_in_a_cold_one(
    make_project, step_starts
):
    nodes = [NodeSpec("speak", "log_through_plugin_loggers", ["params:seed"], ["a"])]
    project = make_project(
        nodes=nodes,
        extra_functions=LOG_THROUGH_PLUGIN_LOGGERS,
        extra_files={"conf/logging.yml": LOGGING_DISABLING_EXISTING},
    )

    report = replay(project, compile_job(project), **step_starts.options).report

    assert report.ok
    step_starts.assert_started_so(report)
    log = report.step("speak").log_path.read_text()
    for name in ("kedro_azureml_runtime.execute", "kedro_azureml_runtime.hooks.local_run_hook"):
        assert f"PROJECT-LOGGING {name}: {name} speaks" in log, log


@pytest.mark.slow
def test_each_warm_step_draws_its_own_random_numbers_in_its_own_folder(make_project):
    """NumPy seeds its global random state once, at import, and a fork copies it; ``PWD`` is
    what ``/bin/sh`` sets for a cold step: the step's working copy."""
    pytest.importorskip("numpy")
    nodes = [NodeSpec(f"draw_{n}", "draw", ["params:seed"], [f"r{n}"]) for n in (1, 2)]
    catalog = {f"r{n}": pipeline_dataset(f"r{n}.json", "json.JSONDataset") for n in (1, 2)}
    project = make_project(nodes=nodes, extra_functions=STATE_FUNCTIONS, catalog=catalog)

    result = replay(project, compile_job(project), max_parallel=1)

    assert result.report.ok, result.report.step("draw_2").log_path.read_text()
    assert step_starts_of(result.report) == {"draw_1": "warm", "draw_2": "warm"}
    seen = [
        json.loads(
            (result.report.run_dir / f"draw_{n}" / "outputs" / f"r{n}" / f"r{n}.json").read_text()
        )
        for n in (1, 2)
    ]
    assert seen[0]["draw"] != seen[1]["draw"]
    assert all(step["pwd"] == step["cwd"] for step in seen), seen


def test_the_starter_log_copied_into_the_project_replaces_a_symlink_and_never_follows_it(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not the project's\n")
    local = tmp_path / "project" / ".azureml-local"
    local.mkdir(parents=True)
    (local / LOG_NAME).symlink_to(outside)
    starter = StepStarter(
        tmp_path / "no-env" / "bin", tmp_path / "starter", kept_log=local / LOG_NAME
    )
    starter.folder.mkdir()
    starter.log_path.write_text("warmed up\n")

    starter.copy_log()

    assert outside.read_text() == "not the project's\n"
    assert not (local / LOG_NAME).is_symlink()
    assert (local / LOG_NAME).read_text() == "warmed up\n"


#: A node that makes garbage in reference cycles and leaves it to the automatic collector.
CYCLE_FUNCTIONS = '''

def make_cycles(value):
    """Garbage in cycles, more than the collector's first threshold, never collected by hand."""
    collected = []

    class Cyclic:
        def __del__(self):
            collected.append(1)

    for _ in range(20000):
        first, second = Cyclic(), Cyclic()
        first.other, second.other = second, first
    return {"collected": len(collected)}
'''


@pytest.mark.slow
@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_the_garbage_a_step_makes_is_collected_as_it_runs(make_project, warm):
    """The starter's own objects are frozen out of the collector's reach before each fork (so a
    step's collections do not walk, and copy, the pages it shares with the starter); the step's
    own garbage is still collected automatically, warm as cold."""
    project = make_project(
        nodes=[NodeSpec("cycles", "make_cycles", ["params:seed"], ["report"])],
        extra_functions=CYCLE_FUNCTIONS,
        catalog={"report": pipeline_dataset("report.json", "json.JSONDataset")},
    )

    result = replay(project, compile_job(project), warm=warm)

    assert result.report.ok, result.report.step("cycles").log_path.read_text()
    assert step_starts_of(result.report) == {"cycles": "warm" if warm else "cold"}
    outputs = result.report.run_dir / "cycles" / "outputs" / "report" / "report.json"
    assert json.loads(outputs.read_text())["collected"] > 10000


#: A node ending its step in each way a process ends: a status, a message, an exception, or
#: none; with a thread still running, an exit handler, and output still in stdout's buffer.
EXIT_FUNCTIONS = """
def end_the_step(value):
    import atexit, os, sys, threading, time
    from pathlib import Path

    marks = Path(os.environ["EXIT_MARKS"])

    def late():
        time.sleep(0.3)
        (marks / "thread").write_text("joined")

    threading.Thread(target=late).start()
    atexit.register(lambda: (marks / "atexit").write_text("ran"))
    # an executor never shut down: concurrent.futures joins it at exit (as joblib's do)
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    pool.submit(lambda: (time.sleep(0.3), (marks / "pool").write_text("done")))
    print("last words, still buffered")
    import ctypes

    ctypes.CDLL(None).printf(b"native words, in the C library's buffer\\n")
    how = os.environ["EXIT_HOW"]
    if how == "status":
        sys.exit(3)
    if how == "huge":
        sys.exit(2**70)
    if how == "message":
        sys.exit("goodbye from the node")
    if how == "raise":
        raise RuntimeError("the node failed")
    return value
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "status"), [("none", 0), ("status", 3), ("huge", 255), ("message", 1), ("raise", 1)]
)
def test_a_warm_step_exits_as_a_cold_one_does(make_project, tmp_path, monkeypatch, how, status):
    """A warm step skips the interpreter's teardown, nothing before it: threads and executors are
    joined, exit handlers run, buffered output (Python's and the C library's) is written, and the
    exit status is Python's, warm as cold."""
    project = make_project(
        nodes=[NodeSpec("ending", "end_the_step", ["params:seed"], ["out"])],
        extra_functions=EXIT_FUNCTIONS,
        catalog={"out": pipeline_dataset("out.json", "json.JSONDataset")},
    )
    job_file = compile_job(project)
    monkeypatch.setenv("EXIT_HOW", how)
    seen = {}
    for mode in ("warm", "cold"):
        marks = tmp_path / f"marks-{mode}"
        marks.mkdir()
        monkeypatch.setenv("EXIT_MARKS", str(marks))
        report = replay(project, job_file, warm=mode == "warm").report
        assert step_starts_of(report) == {"ending": mode}
        step = report.step("ending")
        log = step.log_path.read_text()
        assert step.exit_code == status, log
        assert "last words, still buffered" in log
        assert "native words, in the C library's buffer" in log
        assert (marks / "thread").read_text() == "joined"
        assert (marks / "pool").read_text() == "done"
        assert (marks / "atexit").read_text() == "ran"
        seen[mode] = ("goodbye from the node" in log, "RuntimeError: the node failed" in log)
    assert seen["warm"] == seen["cold"] == (how == "message", how == "raise")


#: A process making an early starter's temporary folder, then killed with SIGKILL (as a
#: ``run --local`` killed with ``kill -9``) or living on until its standard input closes.
OWN_A_STARTER_FOLDER = """
import os, signal, sys
from pathlib import Path

from kedro_azureml_deploy.replay.warm_starts import early_starter

starter = early_starter(Path(sys.argv[1]), Path.cwd(), kept_log=Path(sys.argv[2]))
print(starter.folder, flush=True)
if sys.argv[3] == "killed":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stdin.read()
"""


def test_an_early_starter_removes_the_folders_of_killed_runs_and_only_those(tmp_path, monkeypatch):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    no_env = (
        tmp_path / "no-env" / "bin"
    )  # the starter cannot start: its folder is made all the same
    kept_log = tmp_path / "kept.log"

    def owner(fate: str) -> tuple[subprocess.Popen[str], Path]:
        process = subprocess.Popen(
            [sys.executable, "-c", OWN_A_STARTER_FOLDER, str(no_env), str(kept_log), fate],
            env={**os.environ, "TMPDIR": str(temporary)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        return process, Path(process.stdout.readline().strip())

    killed, killed_folder = owner("killed")
    assert killed.wait(timeout=60) == -9 and killed_folder.parent == temporary
    live, live_folder = owner("lives")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "owner.lock").write_text("")
    link = temporary / "kedro-azureml-starter-link"
    link.symlink_to(outside)
    older = temporary / "kedro-azureml-starter-older"  # no lock file: being made, or older
    older.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    try:
        starter = early_starter(no_env, tmp_path, kept_log=kept_log)

        assert not killed_folder.exists()
        assert live_folder.is_dir() and starter.folder.is_dir() and older.is_dir()
        assert link.is_symlink() and (outside / "owner.lock").is_file()
        starter.remove_temporary_folder()
        assert not starter.folder.exists()
    finally:
        live.communicate(timeout=60)


#: Makes the starter of a stand-in step environment warm up for two minutes, after saying so in
#: the file ``WARMING_MARK``: a ``sitecustomize`` runs in every interpreter of the environment.
SLOW_WARM_UP = """
import os, sys, time

if sys.argv[0].endswith("step_starter.py"):
    with open(os.environ["WARMING_MARK"], "w") as mark:
        mark.write(str(os.getpid()))
    time.sleep(120)
"""


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_during_the_warm_up_stops_the_replay_at_once(
    make_project, tmp_path, monkeypatch, signum
):
    venv = _step_environment(tmp_path)
    (site,) = venv.glob("lib/python*/site-packages")
    (site / "sitecustomize.py").write_text(SLOW_WARM_UP)
    mark = tmp_path / "warming"
    monkeypatch.setenv("WARMING_MARK", str(mark))
    nodes, catalog = chain(2)
    project = make_project(nodes=nodes, catalog=catalog)
    job_file = compile_job(project)
    script = (
        "from pathlib import Path\n"
        "from kedro_azureml_deploy.replay import replay_job\n"
        f"report = replay_job(Path({str(job_file)!r}), project_path=Path({str(project.path)!r}),"
        f" python=Path({str(venv)!r}))\n"
        "print('STATUS', report.status)\n"
    )
    replaying = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert replaying.stdout is not None
        seen = []
        for line in replaying.stdout:  # the engine starts right after the title
            seen.append(line)
            if line.startswith("Replaying "):
                break
        deadline = time.monotonic() + 30  # the starter's interpreter writes it as it starts
        while not (mark.is_file() and mark.read_text()):
            if time.monotonic() > deadline or replaying.poll() is not None:
                stdout, stderr = replaying.communicate(timeout=60)
                pytest.fail(f"the starter never warmed up:\n{''.join(seen)}{stdout}\n{stderr}")
            time.sleep(0.05)
        starter = int(mark.read_text())
        time.sleep(1)  # the engine waits for the starter now

        replaying.send_signal(signum)
        stdout, stderr = replaying.communicate(timeout=15)  # the warm-up has 2 minutes to go
    finally:
        replaying.kill()

    assert replaying.returncode == 0, stderr
    assert "STATUS interrupted" in stdout, stdout
    assert process_ends(starter)
    (run,) = (project.path / ".azureml-local" / "runs").iterdir()
    steps = json.loads((run / "run.json").read_text())["steps"]
    assert {step["status"] for step in steps.values()} == {"not_started"}


def _ready_starter(bin_folder: Path, folder: Path) -> StepStarter:
    starter = StepStarter(bin_folder, folder).start(steps_environment(bin_folder, folder))
    deadline = time.monotonic() + 60
    while starter.warming():
        assert time.monotonic() < deadline, "the starter did not warm up"
        time.sleep(0.05)
    assert starter.failure is None, starter.failure
    return starter


@pytest.mark.slow
def test_a_leader_that_answers_after_the_replay_gave_up_never_runs_the_step(tmp_path):
    """The replay waits :data:`LEADER_SECONDS` for a leader's pid, then starts the step cold: a
    leader whose answer comes later must not run it too. Here the replay's side reads the pid,
    as if it came just past the deadline, and closes the step's socket as the replay then does."""
    starter = _ready_starter(Path(sys.executable).parent, tmp_path / "starter")
    step_log = tmp_path / "step.log"  # the step's first act is to open its log
    try:
        channel = starter._ask_for_leader(
            ["kedro", "--version"], cwd=tmp_path, env=dict(os.environ), log_path=step_log
        )
        channel.settimeout(60)
        answer = channel.recv(64)
        leader = int(answer.split()[1])
        channel.close()

        assert process_ends(leader, within=30)
    finally:
        starter.close()
    time.sleep(0.5)  # what was forked has had time to run
    assert not step_log.exists()  # it never even set itself up as the step
    assert "the replay gave up on this step's start" in starter.log_path.read_text()


PIDS_CGROUPS = Path("/sys/fs/cgroup/pids")


@pytest.fixture
def pids_limit(tmp_path: Path):
    """``limit(pid, most)`` puts process ``pid`` in a cgroup of at most ``most`` processes (the
    kernel's pids controller, cgroup v1: a fork past it fails with EAGAIN, as when a machine or
    a container is out of processes). RLIMIT_NPROC would be simpler, but root ignores it."""
    group = PIDS_CGROUPS / f"kedro-azureml-test-{os.getpid()}-{tmp_path.name}"
    try:
        group.mkdir()
    except OSError as exc:
        pytest.skip(f"needs a pids cgroup it can make ({exc.strerror}): root on Linux")

    def limit(pid: int, most: int) -> None:
        (group / "pids.max").write_text(str(most))
        (group / "cgroup.procs").write_text(str(pid))

    yield limit
    deadline = time.monotonic() + 30
    while True:
        for pid in (group / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):  # gone meanwhile
                (PIDS_CGROUPS / "cgroup.procs").write_text(pid)
        try:
            group.rmdir()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{group} stays busy"
            time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize(("fails", "most"), [("the leader", 1), ("the step", 2)])
def test_a_step_the_starter_cannot_fork_starts_cold_and_the_starter_serves_on(
    make_project, tmp_path, pids_limit, fails, most
):
    """``most`` processes: the starter alone, so it cannot fork a step's leader; or the starter
    and a leader, which cannot fork the step."""
    nodes, catalog = chain(2)
    project = make_project(nodes=nodes, catalog=catalog)
    job_file = compile_job(project)
    starter = _ready_starter(python_bin_folder(None, project.path), tmp_path / "starter")
    try:
        pids_limit(starter.pid, most)
        result = replay(project, job_file, max_parallel=1, starter=starter)
        assert starter.failure is None and starter.warming() is False
    finally:
        starter.close()

    assert result.report.ok, [(s.name, s.status, s.exit_code) for s in result.report.steps]
    assert OFF_LINE not in result.output
    assert step_starts_of(result.report) == {"node_0": "cold", "node_1": "cold"}
    log = starter.log_path.read_text()
    # node_0's start, node_1's preparation while node_0 runs, then node_1's start
    assert log.count("cannot fork for a step: Resource temporarily unavailable") == 3, log


@pytest.mark.slow
def test_a_step_with_a_relative_python_path_starts_cold_and_imports_from_its_working_copy(
    make_project, monkeypatch
):
    """An interpreter makes relative ``PYTHONPATH`` entries absolute against its folder when it
    starts: the starter's folder, not the step's working copy, so such a step starts cold."""
    project = make_project(
        nodes=[NodeSpec("helped", "use_lib_helper", ["params:seed"], ["out"])],
        extra_functions=(
            "\n\ndef use_lib_helper(seed):\n"
            "    import helper_mod\n\n"
            "    return {'from': helper_mod.__file__}\n"
        ),
        extra_files={"lib/helper_mod.py": "VALUE = 1\n"},
        catalog={"out": pipeline_dataset("out.json", "json.JSONDataset")},
    )
    monkeypatch.setenv("PYTHONPATH", "lib")

    report = replay(project, compile_job(project)).report

    assert report.ok, report.step("helped").log_path.read_text()
    assert step_starts_of(report) == {"helped": "cold"}
    written = report.run_dir / "helped" / "outputs" / "out" / "out.json"
    assert Path(json.loads(written.read_text())["from"]).is_relative_to(report.run_dir)
