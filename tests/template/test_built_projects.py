"""Rendered projects, installed with uv and run: what a user does in the first minutes.

Each scenario renders a project with ``kedro_azureml_source`` pointing at this checkout, then runs
`uv sync` in it (its own .venv) and, one test each: `kedro run`, the project's own tests,
`kedro azureml compile`, `kedro azureml run --local`, and a step in an environment built the way
the Dockerfile builds the step image.

Building a project costs a venv, so there are two scenarios, and their builds are shared by the
tests (and the pytest-xdist workers) through a folder and a lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from template_testing import REPO_ROOT, RenderedProject, current_python, project_env

from kedro_azureml_deploy.config import parse_config

try:
    import fcntl
except ImportError:  # Windows: every worker builds its own projects
    fcntl = None  # type: ignore[assignment]

pytestmark = pytest.mark.slow

#: Built scenarios: the defaults, and every non-default choice that changes what gets installed
#: or how it runs. Both use this interpreter's Python version, which uv finds without a download.
BUILDS = {
    "defaults": {},
    "image_mlflow": {
        "execution_mode": "docker_image",
        "use_mlflow": True,
        "use_key_vault": True,
        "ci_provider": "azure_devops",
    },
}
#: The first node of the example pipeline, and what it writes.
FIRST_NODE, FIRST_OUTPUT = "make_points", "points"


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (across processes) while in the block."""
    if fcntl is None:
        yield
        return
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class BuiltProject(RenderedProject):
    """A rendered project with its .venv; commands in it take its lock."""

    lock: Path = Path()

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        with locked(self.lock):
            return run_in(self.path, *args, env=env, timeout=timeout)

    def check(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, describe(args, result)
        return result


def run_in(
    folder: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``folder`` with the environment of ``project_env``."""
    return subprocess.run(
        list(args),
        cwd=folder,
        env=project_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def describe(args: Sequence[str], result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"{' '.join(args)} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
    )


@pytest.fixture(scope="session")
def builds_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder shared by the xdist workers of this session (per worker without a lock)."""
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master" and fcntl is not None:
        base = base.parent
    path = base / "template-builds"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session", params=sorted(BUILDS))
def built(request, builds_dir: Path, copie_session, template_repo: Path) -> BuiltProject:
    """A project of scenario ``BUILDS[param]``, rendered and synced once per session."""
    name = request.param
    folder = builds_dir / name
    lock = builds_dir / f"{name}.lock"
    with locked(lock):
        if not (folder / ".built").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            answers = {
                **BUILDS[name],
                "python_version": current_python(),
                "kedro_azureml_source": str(REPO_ROOT),
            }
            result = copie_session.copy(extra_answers=answers, template_dir=template_repo)
            assert result.exit_code == 0, f"rendering {name} failed: {result.exception!r}"
            shutil.move(result.project_dir, folder)
            (folder / ".answers.json").write_text(json.dumps(result.answers))
            sync = run_in(folder, "uv", "sync")
            assert sync.returncode == 0, describe(["uv", "sync"], sync)
            (folder / ".built").touch()
    answers = json.loads((folder / ".answers.json").read_text())
    return BuiltProject(path=folder, answers=answers, lock=lock)


def azureml_command_landed(project: BuiltProject, command: str) -> None:
    """Skip unless ``kedro azureml COMMAND`` is listed by the project's ``kedro azureml --help``."""
    listing = project.check("uv", "run", "kedro", "azureml", "--help").stdout
    if not re.search(rf"^\s+{command}\s", listing, flags=re.MULTILINE):
        pytest.skip(f"`kedro azureml {command}` has not landed: `kedro azureml --help` lacks it")


def skip_if_not_available(command: str, result: subprocess.CompletedProcess[str]) -> None:
    """Skip when ``command`` failed because it says it is not available yet."""
    output = result.stdout + result.stderr
    missing = re.search(r"not available[^\n]*|No module named 'kedro_azureml_deploy[^\n]*", output)
    if result.returncode != 0 and missing:
        pytest.skip(f"`{command}` has not landed: {missing[0].strip()}")


def test_kedro_run_succeeds(built):
    result = built.check("uv", "run", "kedro", "run")

    assert "Pipeline execution completed successfully" in result.stdout + result.stderr
    metrics = json.loads((built.path / "data" / "metrics.json").read_text())
    assert metrics["r2"] > 0.9


def test_the_projects_own_tests_pass(built):
    result = built.check("uv", "run", "pytest", "-q", "-p", "no:cacheprovider")

    assert re.search(r"\b7 passed\b", result.stdout), result.stdout


def test_azureml_yml_validates_in_the_workspace_environment(built):
    config = parse_config(yaml.safe_load(built.read("conf/base/azureml.yml")))

    assert config.job("default")[1].pipeline.pipeline_name == "__default__"


def test_kedro_azureml_compile_compiles_the_default_job(built):
    azureml_command_landed(built, "compile")

    result = built.run("uv", "run", "kedro", "azureml", "compile", "-j", "default")

    skip_if_not_available("kedro azureml compile", result)
    assert result.returncode == 0, describe(["kedro azureml compile"], result)
    compiled = yaml.safe_load(built.read(".azureml-local/compiled/default.yml"))
    assert set(compiled["jobs"]) == {"make_points", "split_points", "fit_line", "evaluate_line"}
    assert str(REPO_ROOT) not in built.read(".azureml-local/compiled/default.yml")


def test_kedro_azureml_run_local_replays_the_default_job(built, shared_step_environments):
    azureml_command_landed(built, "run")

    result = built.run("uv", "run", "kedro", "azureml", "run", "-j", "default", "--local")

    skip_if_not_available("kedro azureml run --local", result)
    assert result.returncode == 0, describe(["kedro azureml run --local"], result)
    assert re.search(r"Run \S+ succeeded", result.stdout), result.stdout
    # the steps ran in the environment built from the project's uv.lock, kept in the suite's cache
    assert "No uv.lock nor requirements.txt" not in result.stdout
    assert list(shared_step_environments.glob("uv-*/bin/kedro")), result.stdout


@pytest.fixture(scope="session")
def step_venv(built: BuiltProject) -> Path:
    """A venv holding what the Dockerfile installs in the step image, built the same way."""
    folder = built.path.with_name(f"{built.path.name}-step-venv")
    with locked(built.lock):
        if not (folder / ".built").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            # `uv lock` first, as before `docker build`: the checkout may have moved on since
            # the project was synced, and the image installs what the lock pins
            lock = run_in(built.path, "uv", "lock")
            assert lock.returncode == 0, describe(["uv", "lock"], lock)
            args = ["uv", "sync", "--locked", "--no-dev", "--no-editable"]
            # rebuild the runtime from the checkout, not from a wheel an earlier session cached
            args += ["--reinstall-package", "kedro-azureml-runtime"]
            sync = run_in(built.path, *args, env={"UV_PROJECT_ENVIRONMENT": str(folder)})
            assert sync.returncode == 0, describe(args, sync)
            (folder / ".built").touch()
    return folder


def test_the_step_image_holds_the_runtime_and_not_the_deploy_tooling(built, step_venv):
    installed = installed_distributions(step_venv)

    assert {"kedro", "kedro-azureml-runtime", built.package.replace("_", "-")} <= installed
    assert "kedro-azureml-deploy" not in installed
    assert "azure-ai-ml" not in installed
    assert ("mlflow" in installed) == built.answers["use_mlflow"]
    assert ("azure-keyvault-secrets" in installed) == built.answers["use_key_vault"]
    if not (built.answers["use_mlflow"] or built.answers["use_key_vault"]):
        assert not [name for name in installed if name.startswith("azure")]


def test_a_step_runs_in_the_step_image(built, step_venv, tmp_path):
    # /app of the image: what the Dockerfile copies, no source tree, an empty conf/local
    app = tmp_path / "app"
    (app / "conf" / "local").mkdir(parents=True)
    (app / "src").mkdir()
    shutil.copy2(built.path / "pyproject.toml", app)
    shutil.copytree(built.path / "conf" / "base", app / "conf" / "base")
    output = tmp_path / "mnt" / FIRST_OUTPUT
    kedro = str(step_venv / "bin" / "kedro")
    path = {"PATH": f"{step_venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}

    step = run_in(
        app, kedro, "azureml", "execute", "--node", FIRST_NODE,
        "--az-output", FIRST_OUTPUT, str(output), env=path,
    )  # fmt: skip

    assert step.returncode == 0, describe(["kedro azureml execute"], step)
    with (output / "points.pickle").open("rb") as stream:
        assert len(pickle.load(stream)) == 200
    hint = run_in(app, kedro, "azureml", "compile", env=path)
    assert hint.returncode != 0
    assert "kedro-azureml-deploy" in hint.stderr, hint.stderr


@pytest.mark.parametrize("built", ["image_mlflow"], indirect=True)
def test_a_step_in_the_step_image_reads_catalog_credentials_from_key_vault(
    built, step_venv, tmp_path, vault, step_env
):
    assert built.answers["use_key_vault"]
    client_id = "aaaaaaaa-1111-2222-3333-444444444444"
    vault.set_secret("fakevault", "warehouse-token", "s3cret")
    app = tmp_path / "app"
    (app / "conf" / "local").mkdir(parents=True)
    (app / "src").mkdir()
    shutil.copy2(built.path / "pyproject.toml", app)
    shutil.copytree(built.path / "conf" / "base", app / "conf" / "base")
    with (app / "conf" / "base" / "catalog.yml").open("a") as catalog:
        catalog.write(
            "\nwarehouse:\n  type: pickle.PickleDataset\n  filepath: data/warehouse.pickle\n"
            "  credentials:\n    token: ${azureml.keyvault:fakevault,warehouse-token}\n"
        )
    kedro = str(step_venv / "bin" / "kedro")
    env = {
        **step_env,
        "AZURE_CLIENT_ID": client_id,
        "PATH": f"{step_venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }

    step = run_in(
        app, kedro, "azureml", "execute", "--node", FIRST_NODE,
        "--az-output", FIRST_OUTPUT, str(tmp_path / "mnt" / FIRST_OUTPUT), env=env,
    )  # fmt: skip

    assert step.returncode == 0, describe(["kedro azureml execute"], step)
    assert [authorized for *_, authorized in vault.secret_requests] == [False, True]
    assert [request["clientid"] for request in vault.token_requests] == [[client_id]]


# Once: a replay with MLflow in every step costs a minute on two cores.
@pytest.mark.parametrize("built", ["defaults"], indirect=True)
def test_the_replay_runs_every_step_with_the_step_image_packages(built, step_venv):
    azureml_command_landed(built, "run")
    python = step_venv / "bin" / "python"

    result = built.run(
        "uv", "run", "kedro", "azureml", "run", "-j", "default", "--local", "--python", str(python)
    )  # fmt: skip

    skip_if_not_available("kedro azureml run --local --python", result)
    assert result.returncode == 0, describe(["kedro azureml run --local --python"], result)
    assert re.search(r"Run \S+ succeeded", result.stdout), result.stdout


def installed_distributions(venv: Path) -> set[str]:
    """The normalised names of the distributions installed in ``venv``."""
    names = set()
    for metadata in venv.glob("lib/python*/site-packages/*.dist-info"):
        name = metadata.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        names.add(re.sub(r"[-_.]+", "-", name).lower())
    return names
