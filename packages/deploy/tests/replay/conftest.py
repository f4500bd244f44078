"""Helpers for replay tests: compile real Kedro projects with ``kedro azureml compile``, replay the
YAML, and write small compiled files by hand for the checks that need no Kedro."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from kedro_azureml_deploy.replay import ReplayReport, replay_job
from project_factory import (
    KedroProject,
    chain,
    default_azureml_config,
    quiet_kedro_env,
    recording_hooks_settings,
)


@pytest.fixture(autouse=True)
def quiet_kedro(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps inherit the replay's environment: keep Kedro from asking or reporting anything."""
    for name, value in quiet_kedro_env().items():
        monkeypatch.setenv(name, value)


def compile_job(
    project: KedroProject, *args: str, job: dict[str, Any] | None = None, **sections: Any
) -> Path:
    """Write ``conf/base/azureml.yml`` with job ``train`` (settings ``job``; other ``sections``
    replace or add top-level keys), compile it with ``kedro azureml compile`` (extra ``args``)
    and return the YAML's path."""
    config = default_azureml_config({"train": job or {}}, **sections)
    (project.path / "conf" / "base" / "azureml.yml").write_text(json.dumps(config, indent=2))
    target = project.path / "azureml-train.yml"
    project.kedro("azureml", "compile", "-j", "train", "-o", str(target), *args, check=True)
    return target


class Replay:
    """One call of ``replay_job`` with a console captured as text."""

    def __init__(self, project_path: Path, job_file: Path, **options: Any) -> None:
        self.stream = io.StringIO()
        terminal = options.pop("terminal", False)
        width = options.pop("width", 200)
        console = Console(file=self.stream, width=width, force_terminal=terminal, color_system=None)
        self.report: ReplayReport = replay_job(
            job_file, project_path=project_path, console=console, **options
        )

    @property
    def output(self) -> str:
        return self.stream.getvalue()


def replay(project: KedroProject, job_file: Path, **options: Any) -> Replay:
    """Replay ``job_file`` of ``project``; ``terminal=True`` makes the console a terminal."""
    return Replay(project.path, job_file, **options)


def run_state(report: ReplayReport) -> dict[str, Any]:
    """The run's ``run.json``."""
    return json.loads((report.run_dir / "run.json").read_text())


def process_exists(pid: int) -> bool:
    """Whether process ``pid`` is alive (a zombie waiting to be reaped by init is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def process_ends(pid: int, within: float = 3.0) -> bool:
    """Whether process ``pid`` is gone within ``within`` seconds (signals are delivered
    asynchronously)."""
    deadline = time.monotonic() + within
    while process_exists(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def write_job(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Write a compiled job file by hand: ``write_job(jobs, settings=None, name=...)``."""

    def write(
        jobs: dict[str, Any], *, settings: dict[str, Any] | None = None, name: str = "job.yml"
    ) -> Path:
        document = {"type": "pipeline", "display_name": "hand", "jobs": jobs}
        if settings is not None:
            document["settings"] = settings
        path = tmp_path / name
        path.write_text(json.dumps(document, indent=2))
        return path

    yield write


@dataclass(frozen=True)
class StepStarts:
    """How a test's replay starts its steps: ``warm`` (forked by the starter) or ``cold``.

    Attributes:
        warm: whether steps start warm.
    """

    warm: bool

    @property
    def options(self) -> dict[str, bool]:
        """The keyword of ``replay_job``."""
        return {"warm": self.warm}

    @property
    def args(self) -> tuple[str, ...]:
        """The command-line flags of ``kedro azureml replay`` / ``run --local``."""
        return () if self.warm else ("--cold",)

    def assert_started_so(self, report: ReplayReport) -> None:
        """Assert that every step of ``report`` that started did so this way, as ``run.json``
        records it: a warm half whose steps all fell back to cold would test cold twice, and
        pass."""
        starts = {
            name: step["start"]
            for name, step in run_state(report)["steps"].items()
            if step["start"] is not None
        }
        assert starts, "no step started"
        assert set(starts.values()) == {"warm" if self.warm else "cold"}, starts


@pytest.fixture(params=["warm", "cold"])
def step_starts(request: pytest.FixtureRequest) -> StepStarts:
    """A faithfulness test runs twice: with warm step starts (the default) and with --cold."""
    return StepStarts(warm=request.param == "warm")


@pytest.fixture
def hook_recording_chain(
    make_project: Callable[..., KedroProject], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[int], tuple[KedroProject, Path]]:
    """Makes a project of a chain of ``n`` nodes whose hooks append every call they get to a
    JSON-lines log that the steps reach through ``HOOK_LOG``; returns the project and the log."""

    def make(n: int) -> tuple[KedroProject, Path]:
        hook_log = tmp_path / "hooks.jsonl"
        monkeypatch.setenv("HOOK_LOG", str(hook_log))
        settings, hooks = recording_hooks_settings(str(hook_log))
        nodes, catalog = chain(n)
        project = make_project(
            nodes=nodes,
            catalog=catalog,
            settings=settings,
            extra_files={"src/demo_project/hooks.py": hooks},
        )
        return project, hook_log

    return make


def shell_step(command: str, **spec: Any) -> dict[str, Any]:
    """A command step of a hand-written job, its code the job file's folder."""
    return {"type": "command", "command": command, "code": ".", **spec}


#: Node functions for replay projects (``extra_functions`` of the project factory).
NODE_FUNCTIONS = '''
import json
import os
import sys
import time
from pathlib import Path


def describe_step(*values):
    """What a step sees: its folder, environment variables and first PATH entry."""
    if Path("marker.txt").exists():
        raise RuntimeError("this step sees a file another step left in its working copy")
    return {
        "cwd": os.getcwd(),
        "kedro_env": os.environ.get("KEDRO_ENV"),
        "replay_check": os.environ.get("REPLAY_CHECK"),
        "path0": os.environ["PATH"].split(os.pathsep)[0],
    }


def leave_marker(value):
    Path("marker.txt").write_text("left in the working copy by a step")
    return value


def write_into_input(value):
    folder = sys.argv[sys.argv.index("--az-input") + 2]
    Path(folder, "sneaky.txt").write_text("steps must not write here")
    return value


def nap(*values):
    time.sleep(1.5)
    return 1


def write_pid_and_sleep(*values):
    Path(os.environ["PID_FILE"]).write_text(str(os.getpid()))
    time.sleep(30)
    return 1


def fail_until_fixed(value):
    if not os.environ.get("REPLAY_FIXED"):  # the replay's environment, not the compiled job's
        raise RuntimeError("not fixed yet")
    return value + 1


def check_snapshot(*values):
    expected = {
        "assets/kept.txt": True,
        "conf/base/catalog.yml": True,
        "assets/excluded.txt": False,
        "conf/local/credentials.yml": False,
        "data/01_raw/local.csv": False,
    }
    wrong = [path for path, present in expected.items() if Path(path).exists() != present]
    if wrong:
        raise RuntimeError(f"the working copy differs from the upload at {wrong}")
    return 1
'''
