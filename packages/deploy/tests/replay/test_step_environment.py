"""The environment replayed steps run in: built like the step image from the project's ``uv.lock``
or ``requirements.txt`` (real ``uv`` builds, real replays), cached by the lock, ``--python`` first.

The replay of the uv.lock project uses the session's shared cache (``project_fixtures``), as every
other test does; the tests of building and caching use a cache of their own.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.fingerprint import environment_digest
from kedro_azureml_deploy.replay.step_environment import (
    CACHE_VARIABLE,
    IDENTITY_FILE,
    cache_folder,
    step_environment,
)
from kedro_azureml_deploy.replay.step_variables import python_bin_folder
from project_factory import KedroProject, NodeSpec

from .conftest import compile_job, replay

REPO_ROOT = Path(__file__).resolve().parents[4]
RUNTIME = REPO_ROOT / "packages" / "runtime"
KEDRO = f"kedro=={importlib.metadata.version('kedro')}"  # in uv's cache already: no download

PROBE = '''

def probe(seed):
    """Write what the step's interpreter holds to $STEP_PROBE."""
    import importlib.metadata
    import json
    import os
    import sys

    names = sorted({(d.metadata["Name"] or "").lower() for d in importlib.metadata.distributions()})
    with open(os.environ["STEP_PROBE"], "w") as stream:
        json.dump({"modules": sorted(sys.modules), "distributions": names,
                   "prefix": sys.prefix}, stream)
    return seed
'''


def probe_project(path: Path, **files: str) -> KedroProject:
    """A one-node project whose node reports its interpreter, with ``files`` on top."""
    return KedroProject(
        path,
        nodes=[NodeSpec("probe", "probe", ["params:seed"], ["probed"])],
        extra_functions=PROBE,
        extra_files=files,
    ).write()


def locked_pyproject(package: str = "demo-project") -> str:
    """A pyproject.toml as the template writes it: the runtime from this checkout (editable, as
    ``kedro_azureml_source`` renders it), the deploy tooling in the dev group only."""
    return textwrap.dedent(
        f"""\
        [project]
        name = "{package}"
        version = "0.1.0"
        requires-python = ">=3.11"
        dependencies = ["kedro-azureml-runtime", "{KEDRO}"]

        [dependency-groups]
        dev = ["kedro-azureml-deploy"]

        [tool.kedro]
        package_name = "demo_project"
        project_name = "demo_project"
        kedro_init_version = "1.0.0"
        source_dir = "src"

        [tool.uv.sources]
        kedro-azureml-runtime = {{ path = "{RUNTIME.as_posix()}", editable = true }}
        kedro-azureml-deploy = {{ path = "{(REPO_ROOT / "packages" / "deploy").as_posix()}", editable = true }}
        """
    )


def uv_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, "UV_PYTHON": sys.executable, "UV_PYTHON_DOWNLOADS": "never"}


@pytest.fixture(scope="module")
def locked_project(tmp_path_factory: pytest.TempPathFactory) -> KedroProject:
    project = probe_project(
        tmp_path_factory.mktemp("locked") / "project", **{"pyproject.toml": locked_pyproject()}
    )
    lock = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=project.path, env=uv_env(), capture_output=True, text=True
    )
    assert lock.returncode == 0, lock.stderr
    return project


def test_a_replayed_step_runs_without_the_deploy_tooling(locked_project, tmp_path, monkeypatch):
    probe_file = tmp_path / "probe.json"
    monkeypatch.setenv("STEP_PROBE", str(probe_file))
    job = compile_job(locked_project)

    result = replay(locked_project, job)

    assert result.report.ok, result.output
    seen = json.loads(probe_file.read_text())
    assert Path(seen["prefix"]).parent == cache_folder()
    assert (Path(seen["prefix"]) / IDENTITY_FILE).is_file()
    assert {"kedro", "kedro-azureml-runtime"} <= set(seen["distributions"])
    for tooling in ("kedro-azureml-deploy", "azure-ai-ml", "pydantic", "demo-project"):
        assert tooling not in seen["distributions"]
    for module in ("kedro_azureml_deploy", "azure.ai.ml", "pydantic", "kedro_azureml_runtime"):
        assert (module in seen["modules"]) == (module == "kedro_azureml_runtime")


def test_the_runtime_is_the_one_installed_beside_the_deploy_package(locked_project):
    env = step_environment(locked_project.path)

    show = subprocess.run(
        [str(env.bin_folder / "python"), "-c", "import kedro_azureml_runtime; print(kedro_azureml_runtime.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    import kedro_azureml_runtime

    assert Path(show.stdout.strip()) == Path(kedro_azureml_runtime.__file__)


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "step-envs"
    monkeypatch.setenv(CACHE_VARIABLE, str(folder))
    return folder


def test_the_environment_is_built_once_and_again_when_the_requirements_change(own_cache, tmp_path):
    project = probe_project(tmp_path / "project", **{"requirements.txt": f"{KEDRO}\n"})
    said: list[str] = []

    first = step_environment(project.path, notify=said.append)
    again = step_environment(project.path, notify=said.append)
    (project.path / "requirements.txt").write_text(f"{KEDRO}\n# pinned for the image\n")
    changed = step_environment(project.path, notify=said.append)

    assert (first.built, again.built, changed.built) == (True, False, True)
    assert again.bin_folder == first.bin_folder != changed.bin_folder
    # the same distributions, another lock: step reuse keys on the lock, not on what is installed
    assert environment_digest(first.bin_folder) != environment_digest(changed.bin_folder)
    assert said[0] == "Building the step environment for requirements.txt (once) …"
    assert said[1].startswith("Built the step environment in ")
    assert len(said) == 4  # nothing said when the cache has it
    assert sorted(p.name for p in own_cache.iterdir() if p.is_dir()) == sorted(
        [first.key, changed.key]
    )
    listing = project.kedro("azureml", "cache", "--step-envs", check=True).stdout
    assert f"Step environments {own_cache}: 2, " in listing
    assert first.key in listing and changed.key in listing
    cleared = project.kedro("azureml", "cache", "--step-envs", "--clear", check=True).stdout
    assert f"Step environments {own_cache}: removed 2." in cleared
    assert [p for p in own_cache.iterdir() if p.is_dir()] == []


def test_a_moved_environment_keeps_its_identity_and_still_runs(own_cache, tmp_path):
    project = probe_project(tmp_path / "project", **{"requirements.txt": f"{KEDRO}\n"})
    env = step_environment(project.path)
    identity = environment_digest(env.bin_folder)
    moved = tmp_path / "elsewhere"
    shutil.move(env.bin_folder.parent, moved)

    version = subprocess.run(
        [str(moved / "bin" / "kedro"), "--version"], capture_output=True, text=True
    )

    assert version.returncode == 0, version.stderr
    assert environment_digest(moved / "bin") == identity


def test_a_failed_build_leaves_nothing_behind_and_says_what_to_do(own_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("UV_OFFLINE", "1")
    requirements = "kedro-azureml-no-such-distribution==0.0.1\n"
    project = probe_project(tmp_path / "project", **{"requirements.txt": requirements})

    with pytest.raises(ReplayError, match="could not build the step environment") as error:
        step_environment(project.path)

    assert "--python" in str(error.value)
    assert [p for p in own_cache.iterdir() if p.is_dir()] == []


def test_python_wins_and_builds_nothing(own_cache, tmp_path):
    project = probe_project(tmp_path / "project", **{"requirements.txt": f"{KEDRO}\n"})

    folder = python_bin_folder(Path(sys.executable), project.path)

    assert folder == Path(sys.executable).absolute().parent
    assert not own_cache.exists()


def test_a_project_without_a_lock_runs_in_this_environment_with_a_notice(own_cache, tmp_path):
    project = probe_project(tmp_path / "project")
    said: list[str] = []

    env = step_environment(project.path, notify=said.append)

    assert env.bin_folder == Path(sys.executable).absolute().parent
    assert env.key is None
    assert len(said) == 1
    assert said[0].startswith("No uv.lock nor requirements.txt in project: the steps run in")
    assert not own_cache.exists()
