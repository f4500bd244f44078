"""The Python environment the steps of a replay run in, and the environment variables every
step starts from, before its own.

Apart from :mod:`.step_setup` so that ``kedro azureml run --local`` can start its warm starter
(which needs both) as Kedro's CLI starts, before it imports the rest of the replay.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from kedro_azureml_deploy.errors import ReplayError


def python_bin_folder(
    python: Path | None,
    project_path: Path | None = None,
    *,
    notify: Callable[[str], None] | None = None,
) -> Path:
    """The folder whose ``kedro`` and ``python`` the steps run: that of ``python`` (an
    interpreter or an environment folder); when ``None``, that of the environment built like
    ``project_path``'s step image (see ``replay.step_environment``, built once and cached), or of
    the interpreter running the replay when there is no ``project_path``. ``notify`` receives
    the line saying that the environment is being built, or why it is the laptop's.

    Raises:
        ReplayError: ``python`` does not exist or its environment has no ``kedro``, or the step
            environment cannot be built.
    """
    if python is None:
        if project_path is not None:
            from kedro_azureml_deploy.replay.step_environment import step_environment

            return step_environment(project_path, notify=notify).bin_folder
        return Path(sys.executable).absolute().parent
    path = python.expanduser().absolute()
    if path.is_dir():
        folder = path / "bin"
    elif path.is_file():
        folder = path.parent
    else:
        raise ReplayError(f"--python {python}: there is no such interpreter or environment.")
    if not (folder / "kedro").is_file():
        raise ReplayError(
            f"--python {python}: {folder} has no `kedro`; install kedro-azureml-runtime and the "
            "project's dependencies into that environment, as the step image has them."
        )
    return folder


def steps_environment(bin_folder: Path, project_path: Path) -> dict[str, str]:
    """The environment every step starts from, before its own variables: this process's, with
    ``bin_folder`` first on ``PATH``, and without the absolute ``PYTHONPATH`` entries in the
    project or at its source folder (wherever that resolves to: ``src`` may be a link out of
    it). Kedro adds the project's source folder there when it opens the project (so this
    process has it); a step imports the project from its working copy only, as on Azure ML,
    never a module the snapshot left out from the project itself. Relative entries stay: they
    name folders of the working copy, where the step runs (such a step starts cold, see
    ``warm_starts.python_path_is_absolute``)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(filter(None, [str(bin_folder), env.get("PATH")]))
    if "PYTHONPATH" in env:
        project = _resolved(Path(project_path)) or Path(project_path).absolute()
        source = _resolved(project / _source_dir(project))
        kept = [
            entry
            for entry in env["PYTHONPATH"].split(os.pathsep)
            if not _leads_into_the_project(entry, project, source)
        ]
        if any(kept):
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            del env["PYTHONPATH"]
    return env


def _leads_into_the_project(entry: str, project: Path, source: Path | None) -> bool:
    if not Path(entry).is_absolute():
        return False
    resolved = _resolved(Path(entry))
    return resolved is not None and (resolved.is_relative_to(project) or resolved == source)


def _resolved(path: Path) -> Path | None:
    """``path`` resolved; ``None`` when it cannot be (a symlink loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def _source_dir(project: Path) -> str:
    """The project's ``[tool.kedro] source_dir`` (``src`` by default), as Kedro reads it."""
    import tomllib

    try:
        with (project / "pyproject.toml").open("rb") as file:
            found = tomllib.load(file).get("tool", {}).get("kedro", {}).get("source_dir", "src")
    except (OSError, ValueError):
        return "src"
    return found if isinstance(found, str) else "src"
