"""The Python environment a replay's steps run in: by default one built as the step image is.

The project's ``Dockerfile`` installs, from ``uv.lock`` (``uv sync --locked --no-dev``) or from
``requirements.txt`` (plus ``kedro-azureml-runtime``), what a step needs and nothing of the deploy
tooling. A step run in the laptop's environment instead imports what is installed there
(kedro-azureml-deploy, azure-ai-ml, pydantic, pandas, ...), and pays for it at every start. So the
replay builds, once, an environment the same way (without installing the project: each step's
working copy has its ``src/``, which Kedro puts on ``sys.path``), with the kedro-azureml-runtime
that is installed next to this package (the same editable checkout, or the same version), and
runs every step with its ``kedro`` and ``python``.

Environments are kept in a user cache shared by projects, one folder per *key*: the digest of the
lock (or requirements) file, the Python (version, implementation, platform), the runtime's source
and this module's build recipe; and the project's path when the file names local paths. The
cache is ``$KEDRO_AZUREML_STEP_ENVS`` when set, else ``kedro-azureml/step-envs`` in the user
cache folder (``$XDG_CACHE_HOME``, ``~/.cache``, ``~/Library/Caches`` on macOS). A build holds
``<key>.lock`` (``flock``) and writes into a temporary folder renamed into place when complete
(the environment is made relocatable), so concurrent replays build it once and a failed build
leaves nothing behind. Each environment holds :data:`IDENTITY_FILE`, which step fingerprints
read instead of asking the interpreter.

A project with neither file runs its steps in the laptop's environment, with a notice.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.user_cache import user_cache

#: The environment variable that relocates the cache of step environments.
CACHE_VARIABLE = "KEDRO_AZUREML_STEP_ENVS"
#: The file in each built environment naming its key: the environment's identity.
IDENTITY_FILE = "kedro-azureml-step-env.json"
RUNTIME_DISTRIBUTION = "kedro-azureml-runtime"
#: Bumped when the way an environment is built changes: every key changes with it.
_RECIPE = 1
_BUILDING_PREFIX = ".building-"
#: A lock or requirements file naming local folders: they resolve against the project.
_LOCAL_SOURCES = re.compile(
    r"\{ *(editable|path|directory) *= *\"(?!\.\")|^\s*(-e\s|\.|/|file:)", re.MULTILINE
)
#: The environment of uv's commands: none of the laptop's environment leaks into the build.
_LEAKING = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX")


@dataclass(frozen=True)
class DependencySource:
    """What the step image installs the project's dependencies from.

    Attributes:
        mode: ``"uv.lock"`` or ``"requirements.txt"``.
        file: that file in the project.
    """

    mode: str
    file: Path


@dataclass(frozen=True)
class StepEnvironment:
    """The environment the steps run in.

    Attributes:
        bin_folder: the folder whose ``kedro`` and ``python`` the steps run.
        key: the cache key of a built environment, ``None`` for the laptop's.
        built: whether this call built it (``False``: it came from the cache, or is the laptop's).
    """

    bin_folder: Path
    key: str | None = None
    built: bool = False


def dependency_source(project_path: Path) -> DependencySource | None:
    """The file the project's step image installs from: the one its ``Dockerfile`` names when it
    has both, else ``uv.lock``, else ``requirements.txt``; ``None`` when it has neither."""
    lock, requirements = project_path / "uv.lock", project_path / "requirements.txt"
    if lock.is_file() and requirements.is_file():
        dockerfile = project_path / "Dockerfile"
        text = dockerfile.read_text(errors="replace") if dockerfile.is_file() else ""
        if "requirements.txt" in text and "uv sync" not in text:
            return DependencySource("requirements.txt", requirements)
    if lock.is_file():
        return DependencySource("uv.lock", lock)
    if requirements.is_file():
        return DependencySource("requirements.txt", requirements)
    return None


def cache_folder() -> Path:
    """Where step environments are kept (see the module docstring)."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured).expanduser().absolute()
    return user_cache("step-envs")


def runtime_requirement() -> list[str]:
    """The ``uv pip install`` arguments of the kedro-azureml-runtime installed next to this
    package: its folder (``-e`` when editable) when installed from one, else its exact version."""
    distribution = importlib.metadata.distribution(RUNTIME_DISTRIBUTION)
    direct = distribution.read_text("direct_url.json")
    if direct:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            data = json.loads(direct)
            url = urlparse(data["url"])
            if url.scheme == "file" and "dir_info" in data:
                folder = unquote(url.path)
                return ["-e", folder] if data["dir_info"].get("editable") else [folder]
    return [f"{RUNTIME_DISTRIBUTION}=={distribution.version}"]


def environment_key(source: DependencySource, project_path: Path, runtime: Sequence[str]) -> str:
    """The cache key of the environment built from ``source`` with ``runtime`` for this Python."""
    content = source.file.read_bytes()
    text = content.decode(errors="replace")
    parts = {
        "recipe": _RECIPE,
        "mode": source.mode,
        "file": hashlib.sha256(content).hexdigest(),
        "python": [sys.version, sys.implementation.cache_tag, sys.platform, platform.machine()],
        "runtime": list(runtime),
        "project": str(project_path.resolve()) if _LOCAL_SOURCES.search(text) else None,
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return f"{source.mode.split('.')[0]}-{digest[:20]}"


def step_environment(
    project_path: Path, *, notify: Callable[[str], None] | None = None
) -> StepEnvironment:
    """The environment built like the project's step image (built now when the cache lacks it),
    or the laptop's when the project has neither ``uv.lock`` nor ``requirements.txt``.

    Args:
        project_path: the Kedro project.
        notify: receives the one-line progress and notices (nothing is said when ``None``).

    Raises:
        ReplayError: uv cannot be found, or the build fails (offline, a lock out of date, a
            requirement that cannot be resolved); nothing is left in the cache then.
    """
    say = notify or (lambda _line: None)
    project_path = Path(project_path).resolve()
    source = dependency_source(project_path)
    if source is None:
        say(
            f"No uv.lock nor requirements.txt in {project_path.name}: the steps run in this "
            f"environment ({sys.prefix}), not one built like the step image."
        )
        return StepEnvironment(Path(sys.executable).absolute().parent)
    runtime = runtime_requirement()
    key = environment_key(source, project_path, runtime)
    cache = cache_folder()
    target = cache / key
    if _complete(target):
        return StepEnvironment(target / "bin", key=key)
    uv = find_uv()
    with _writing_cache(cache), _locked(cache / f"{key}.lock"):
        if _complete(target):  # another replay built it meanwhile
            return StepEnvironment(target / "bin", key=key)
        for stale in cache.glob(f"{_BUILDING_PREFIX}{key}-*"):  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        started = time.monotonic()
        say(f"Building the step environment for {source.mode} (once) …")
        building = cache / f"{_BUILDING_PREFIX}{key}-{os.getpid()}"
        try:
            _build(uv, building, source, project_path, runtime)
            (building / IDENTITY_FILE).write_text(
                json.dumps({"key": key, "mode": source.mode, "runtime": runtime}) + "\n"
            )
            if target.exists():  # an incomplete folder of an older version of this module
                shutil.rmtree(target)
            building.rename(target)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        say(f"Built the step environment in {time.monotonic() - started:.1f} s: {target}")
    return StepEnvironment(target / "bin", key=key, built=True)


def built_bin_folder(project_path: Path) -> Path | None:
    """The bin folder :func:`step_environment` returns for ``project_path`` when it has nothing
    to build (the environment is in the cache, or the project has neither file: the laptop's),
    else ``None``; builds nothing, writes nothing, says nothing."""
    project_path = Path(project_path).resolve()
    source = dependency_source(project_path)
    if source is None:
        return Path(sys.executable).absolute().parent
    try:
        target = cache_folder() / environment_key(source, project_path, runtime_requirement())
    except (OSError, importlib.metadata.PackageNotFoundError):
        return None
    return target / "bin" if _complete(target) else None


def environment_identity(bin_folder: Path) -> str | None:
    """The key of the built step environment whose bin folder is ``bin_folder``, ``None`` when
    it is not one."""
    identity = Path(bin_folder).parent / IDENTITY_FILE
    try:
        return str(json.loads(identity.read_text())["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class CachedEnvironment:
    """A built environment of the cache.

    Attributes:
        key: its cache key (also its folder's name).
        path: its folder.
        mode: what it was built from, ``"uv.lock"`` or ``"requirements.txt"``.
        size: bytes on disk.
    """

    key: str
    path: Path
    mode: str
    size: int


def cached_environments() -> list[CachedEnvironment]:
    """The complete environments of the cache, by key."""
    cache = cache_folder()
    if not cache.is_dir():
        return []
    found = []
    for folder in sorted(cache.iterdir()):
        if folder.name.startswith(".") or not _complete(folder):
            continue
        try:
            mode = str(json.loads((folder / IDENTITY_FILE).read_text()).get("mode", ""))
        except (OSError, ValueError, AttributeError):
            mode = ""
        size = sum(f.lstat().st_size for f in folder.rglob("*") if not f.is_dir())
        found.append(CachedEnvironment(folder.name, folder, mode, size))
    return found


def clear_environments() -> int:
    """Remove every environment of the cache, each under its build lock (an environment being
    built now is left to its build); how many were removed."""
    removed = 0
    for environment in cached_environments():
        with _locked(environment.path.with_name(f"{environment.key}.lock")):
            shutil.rmtree(environment.path, ignore_errors=True)
        removed += 1
    return removed


def find_uv() -> str:
    """The ``uv`` next to this interpreter, else on ``PATH``.

    Raises:
        ReplayError: there is none.
    """
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        raise ReplayError(
            "the replay builds the step environment with uv, which is not on PATH: install uv "
            "(https://docs.astral.sh/uv/), or pass --python to run the steps in an existing "
            "environment (--python .venv/bin/python: this project's)."
        )
    return found


def _complete(target: Path) -> bool:
    return (target / IDENTITY_FILE).is_file() and (target / "bin" / "kedro").is_file()


def _build(
    uv: str, folder: Path, source: DependencySource, project_path: Path, runtime: Sequence[str]
) -> None:
    """Build the environment into ``folder`` as the Dockerfile builds the image's, the project
    itself left out, with ``runtime`` as its kedro-azureml-runtime."""
    python = sys.executable
    _uv(uv, ["venv", "--quiet", "--relocatable", "--python", python, str(folder)], source)
    env_python = str(folder / "bin" / "python")
    if source.mode == "uv.lock":
        sync = ["sync", "--locked", "--no-dev", "--no-install-project", "--compile-bytecode"]
        _uv(
            uv,
            [*sync, "--quiet", "--python", env_python],
            source,
            cwd=project_path,
            extra_env={"UV_PROJECT_ENVIRONMENT": str(folder)},
        )
        if _installed_runtime(folder) != runtime:  # the lock pins another runtime than ours
            install = ["pip", "install", "--quiet", "--python", env_python, "--no-deps"]
            _uv(uv, [*install, "--compile-bytecode", *runtime], source, cwd=project_path)
    else:
        install = ["pip", "install", "--quiet", "--python", env_python, "--compile-bytecode"]
        _uv(uv, [*install, "-r", str(source.file), *runtime], source, cwd=project_path)


def _installed_runtime(folder: Path) -> list[str] | None:
    """The runtime installed in the environment ``folder``, as :func:`runtime_requirement` says."""
    for info in folder.glob("lib/python*/site-packages/kedro_azureml_runtime-*.dist-info"):
        version = info.name.removesuffix(".dist-info").rsplit("-", 1)[1]
        direct = info / "direct_url.json"
        if not direct.is_file():
            return [f"{RUNTIME_DISTRIBUTION}=={version}"]
        with contextlib.suppress(ValueError, KeyError, TypeError):
            data = json.loads(direct.read_text())
            url = urlparse(data["url"])
            if url.scheme == "file" and "dir_info" in data:
                path = unquote(url.path)
                return ["-e", path] if data["dir_info"].get("editable") else [path]
        return None
    return None


def _uv(
    uv: str,
    args: list[str],
    source: DependencySource,
    *,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> None:
    env = {key: value for key, value in os.environ.items() if key not in _LEAKING}
    env.update(extra_env or {})
    result = subprocess.run(
        [uv, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        why = " ".join(lines[-3:])[-400:] or f"exit code {result.returncode}"
        command = f"uv {args[0]}"
        raise ReplayError(
            f"could not build the step environment from {source.mode} ({command} failed: "
            f"{why}). Fix what uv says (offline: connect to the package index; a lock out of "
            "date: `uv lock`), or pass --python to run the steps in an existing environment "
            "(--python .venv/bin/python: this project's)."
        )


@contextlib.contextmanager
def _writing_cache(cache: Path) -> Iterator[None]:
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReplayError(
            f"cannot write the cache of step environments {cache} ({exc.strerror}): set "
            "KEDRO_AZUREML_STEP_ENVS to a folder you can write, or pass --python to run the steps in "
            "an existing environment."
        ) from None
    yield


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """Hold ``flock`` on ``lock_file`` in the block: one build of a key at a time."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
