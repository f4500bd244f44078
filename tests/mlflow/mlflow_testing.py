"""Helpers of the MLflow tests: a real tracking server (sqlite, loopback), MLflow Kedro projects,
and compiled steps run as Azure ML would run them. The fixtures are registered by conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from kedro_azureml_deploy.replay.compiled_file import input_text
from project_factory import KedroProject, NodeSpec, azureml_yml, quiet_kedro_env

ROOT = Path(__file__).resolve().parents[2]
#: Seconds the server may take to answer /health: it creates its schema first (many migrations).
SERVER_START_TIMEOUT = 180

#: Node functions of the MLflow projects.
MLFLOW_FUNCTIONS = """

def log_score(seed):
    import mlflow

    mlflow.log_metric("score", seed * 10)
    return seed


def fail_once(seed):  # fails the first time it runs in a project, then logs like log_score
    from pathlib import Path

    marker = Path("failed_once")
    if not marker.exists():
        marker.touch()
        raise RuntimeError("first attempt fails")
    return log_score(seed)
"""


@dataclass(frozen=True)
class MlflowServer:
    """A running ``mlflow server``: its URI and a client of it."""

    uri: str
    root: Path

    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri)

    def all_runs(self) -> list[Any]:
        """Every run of every experiment, oldest first."""
        client = self.client()
        experiments = [e.experiment_id for e in client.search_experiments()]
        runs = client.search_runs(experiments, max_results=1000, order_by=["attributes.start_time"])
        return list(runs)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """``mlflow server`` on 127.0.0.1 with a sqlite store, stopped (its whole process group) at
    the end of the session."""
    root = tmp_path_factory.mktemp("mlflow_server")
    port = _free_port()
    uri = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--default-artifact-root",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        # The default allowed hosts are localhost and private addresses; say it explicitly so a
        # change of default cannot turn the loopback client away.
        "--allowed-hosts",
        f"127.0.0.1:{port},localhost:{port}",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "MLFLOW_TRACKING_URI": ""},
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(uri):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow server did not start (exit {process.poll()}):\n"
                    + log_path.read_text(errors="replace")[-4000:]
                )
            time.sleep(0.25)
        yield MlflowServer(uri=uri, root=root)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def mlflow_yml(uri: str, experiment: str | None) -> str:
    config: dict[str, Any] = {"server": {"mlflow_tracking_uri": uri}}
    if experiment:
        config["tracking"] = {"experiment": {"name": experiment}}
    return yaml.safe_dump(config)


@pytest.fixture
def make_mlflow_project(
    make_project: Callable[..., KedroProject], mlflow_server: MlflowServer
) -> Callable[..., KedroProject]:
    """A project whose conf/base/mlflow.yml points at the session's server, with a node
    ``train`` logging the metric ``score`` (seed * 10) and kedro-mlflow logging ``seed``.

    Keywords: ``nodes`` (default: ``train`` then ``evaluate``), ``jobs`` of azureml.yml,
    ``experiment`` (``tracking.experiment.name`` of mlflow.yml), ``mlflow=False`` for a project
    without MLflow (no mlflow.yml), ``settings``.
    """

    def make(
        *,
        nodes: list[NodeSpec] | None = None,
        jobs: Mapping[str, Any] | None = None,
        experiment: str | None = None,
        mlflow: bool = True,
        settings: str = "",
    ) -> KedroProject:
        files = {"conf/base/azureml.yml": azureml_yml(jobs or {"train": {}})}
        if mlflow:
            files["conf/base/mlflow.yml"] = mlflow_yml(mlflow_server.uri, experiment)
        return make_project(
            nodes=nodes
            or [
                NodeSpec("train", "log_score", ["params:seed"], ["model"]),
                NodeSpec("evaluate", "add_one", ["model"], ["metrics"]),
            ],
            parameters={"seed": 3},
            extra_functions=MLFLOW_FUNCTIONS,
            extra_files=files,
            settings=settings,
        )

    return make


#: A ready step venv for the steps with kedro-mlflow, instead of one synced from uv.lock.
STEP_VENV_VARIABLE = "KEDRO_AZUREML_TEST_STEP_VENV"


@pytest.fixture(scope="session")
def step_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a venv built like a step image of an MLflow project: the runtime with its
    ``mlflow`` extra (MLflow, kedro-mlflow, azureml-mlflow, kedro-datasets), at the versions of
    uv.lock, or the venv ``KEDRO_AZUREML_TEST_STEP_VENV`` names.

    The workspace's own environment has MLflow but not kedro-mlflow, whose hooks would register
    themselves in every Kedro project of the other suites.
    """
    given = os.environ.get(STEP_VENV_VARIABLE)
    if given:  # scripts/supported_versions.py: a step image at the lowest versions of the extra
        bin_folder = Path(given).resolve() / "bin"
        if not (bin_folder / "kedro").is_file():
            pytest.fail(f"{STEP_VENV_VARIABLE}={given} is not a venv with kedro installed")
        return bin_folder
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        pytest.fail("uv is needed to build the step venv of the MLflow tests")
    venv = tmp_path_factory.mktemp("step_venv") / "venv"
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    }
    result = subprocess.run(
        [
            uv,
            "sync",
            "--locked",
            "--exact",
            "--quiet",
            "--no-dev",
            "--package",
            "kedro-azureml-runtime",
            "--extra",
            "mlflow",
            "--python",
            sys.executable,
        ],
        cwd=ROOT,
        env={**env, "UV_PROJECT_ENVIRONMENT": str(venv)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"uv sync of the step venv failed:\n{result.stderr}"
    return venv / "bin"


def step_env(bin_folder: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a step process whose ``kedro`` is in ``bin_folder``: this one without
    MLflow or kedro-azureml variables (as a fresh container), Kedro kept quiet, plus ``extra``."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MLFLOW_", "KEDRO_AZUREML_")) and key != "VIRTUAL_ENV"
    }
    base["PATH"] = str(bin_folder) + os.pathsep + base.get("PATH", "")
    return {**base, **quiet_kedro_env(), **(extra or {})}


@dataclass
class StepRun:
    step: str
    returncode: int
    output: str


PLACEHOLDER = re.compile(r"\$\{\{(inputs|outputs)\.([A-Za-z0-9_]+)\}\}")
_PARENT_INPUT = re.compile(r"^\$\{\{parent\.inputs\.([A-Za-z0-9_]+)\}\}$")
_PARENT_OUTPUT = re.compile(r"^\$\{\{parent\.jobs\.([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)\}\}$")


def run_step(
    project: KedroProject,
    spec: Mapping[str, Any],
    step: str,
    *,
    mounts: Path,
    bin_folder: Path,
    env: Mapping[str, str],
) -> StepRun:
    """Run the command of compiled step ``step`` as Azure ML would, with the step's environment
    variables and ``env``, the ``kedro`` of ``bin_folder``, outputs and inputs mounted under
    ``mounts/<producing step>/<port>``."""
    job = spec["jobs"][step]
    folders: dict[tuple[str, str], str] = {}
    for port in job.get("outputs") or {}:
        folders[("outputs", port)] = str(mounts / step / port)
    values: dict[str, str] = {}  # job inputs (Kedro parameters): Azure writes their text as is
    for port, source in (job.get("inputs") or {}).items():
        if parameter := _PARENT_INPUT.match(str(source)):
            values[port] = input_text(spec["inputs"][parameter[1]])
            continue
        match = _PARENT_OUTPUT.match(str(source))
        assert match, f"unexpected input {source!r}"
        folders[("inputs", port)] = str(mounts / match[1] / match[2])

    def expand(m: re.Match[str]) -> str:
        if m[1] == "inputs" and m[2] in values:
            return values[m[2]]
        return shlex.quote(folders[(m[1], m[2])])

    command = PLACEHOLDER.sub(expand, job["command"])
    variables = {str(k): str(v) for k, v in (job.get("environment_variables") or {}).items()}
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=project.path,
        env={**step_env(bin_folder, variables), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return StepRun(step, result.returncode, result.stdout + result.stderr)


def compile_job(project: KedroProject, job: str = "train") -> dict[str, Any]:
    """``kedro azureml compile -j job`` in the project, with the workspace's environment; the
    compiled spec."""
    project.kedro(
        "azureml", "compile", "-j", job, check=True, env=step_env(Path(sys.executable).parent)
    )
    return yaml.safe_load((project.path / ".azureml-local" / "compiled" / f"{job}.yml").read_text())
