"""What a step gets before its command runs, as on Azure ML.

A fresh working copy of the code snapshot, an empty folder per output, its inputs (the output
folders of upstream steps, or data assets from the project's local asset cache), its command with
``${{inputs.*}}`` and ``${{outputs.*}}`` expanded to those folders (an input bound to a job input,
a Kedro parameter, to its value's text, as Azure ML writes it), and its environment variables
on top of the replay's own environment, with the chosen Python environment first on ``PATH``.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.compiled_file import (
    IMAGE_WORKDIR_PREFIX,
    PORT_PLACEHOLDER,
    AssetInput,
    JobInput,
    StepOutputInput,
    StepSpec,
    input_text,
)
from kedro_azureml_deploy.replay.read_only import remove_folder
from kedro_azureml_deploy.replay.run_store import ReplayRun, writing
from kedro_azureml_deploy.replay.snapshot import copy_snapshot

#: Where ``AzureMLAssetDataset`` caches data assets in a project: ``data/<name>/<version>/``.
ASSET_CACHE = Path("data")
_NUMERIC = re.compile(r"\d+")


class StepSetupError(Exception):
    """A step cannot be given what Azure ML would give it; the step fails with this message."""


@dataclass(frozen=True)
class PreparedStep:
    """A step ready to start.

    Attributes:
        command: the command with its placeholders expanded.
        cwd: the step's working copy of the code.
        env: the complete environment of the command.
        inputs: input port to the folder (or, for a ``uri_file`` asset, the file) it reads.
    """

    command: str
    cwd: Path
    env: Mapping[str, str]
    inputs: Mapping[str, Path]


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


def prepare_step(
    step: StepSpec,
    run: ReplayRun,
    *,
    project_path: Path,
    bin_folder: Path,
    job_inputs: Mapping[str, Any] | None = None,
) -> PreparedStep:
    """Create the step's folder in ``run`` (replacing any earlier one) and expand its command;
    ``job_inputs`` are the values of the job's inputs.

    Raises:
        StepSetupError: a data asset input is not in the project's local asset cache.
        RunWriteError: the step's folder, working copy or output folders cannot be written.
    """
    with writing(f"the folder of step {step.name}", run.step_folder(step.name)):
        remove_folder(run.step_folder(step.name))
        run.step_folder(step.name).mkdir(parents=True)
    values = {
        port: input_text((job_inputs or {})[source.name])
        for port, source in step.inputs.items()
        if isinstance(source, JobInput)
    }
    inputs = input_paths(step, run, project_path)
    cwd = run.working_copy(step.name)
    with writing(f"the working copy of step {step.name}", cwd):
        copy_snapshot(run.snapshot_folder, cwd)
    outputs = {port: run.output_folder(step.name, port) for port in step.outputs}
    for folder in outputs.values():
        with writing(f"the output folder of step {step.name}", folder):
            folder.mkdir(parents=True)

    def expand(match: re.Match[str]) -> str:
        if match["kind"] == "inputs" and match["port"] in values:
            return values[match["port"]]  # as Azure ML writes it: the command quotes it
        paths = inputs if match["kind"] == "inputs" else outputs
        return shlex.quote(str(paths[match["port"]]))

    command = PORT_PLACEHOLDER.sub(expand, step.command)
    if step.image_workdir is not None:
        workdir = f"cd {shlex.quote(str(cwd))} && "
        command = IMAGE_WORKDIR_PREFIX.sub(lambda _: workdir, command, count=1)
    env = {**steps_environment(bin_folder, project_path), **step.environment_variables}
    return PreparedStep(command=command, cwd=cwd, env=env, inputs=inputs)


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


def input_paths(step: StepSpec, run: ReplayRun, project_path: Path) -> dict[str, Path]:
    """Input port to the folder (or, for a ``uri_file`` asset, the file) the step reads.

    Raises:
        StepSetupError: a data asset input is not in the project's local asset cache.
    """
    return {
        port: _input_path(port, source, run, project_path)
        for port, source in step.inputs.items()
        if not isinstance(source, JobInput)
    }


def _input_path(
    port: str, source: StepOutputInput | AssetInput, run: ReplayRun, project_path: Path
) -> Path:
    if isinstance(source, StepOutputInput):
        return run.output_folder(source.step, source.port)
    return _cached_asset(port, source, project_path / ASSET_CACHE / source.name)


def _cached_asset(port: str, asset: AssetInput, cache: Path) -> Path:
    """The local copy of a data asset: ``data/<name>/<version>/`` (the highest numeric version
    for ``@latest``), the file inside it for a ``uri_file``."""
    version = asset.version or _latest_cached_version(cache)
    folder = cache / (version or "<version>")
    if not folder.is_dir():
        raise StepSetupError(
            f"input {port!r} is the data asset {asset.reference}, which the replay cannot "
            f"download: it is not in the local asset cache {folder}. Run `kedro run` once (it "
            "downloads the assets the pipeline reads), or put its files there."
        )
    if asset.type == "uri_folder":
        return folder
    files = [entry for entry in folder.iterdir() if entry.is_file()]
    if len(files) != 1:
        raise StepSetupError(
            f"input {port!r} is the uri_file data asset {asset.reference}, but its cache folder "
            f"{folder} holds {len(files)} files instead of one."
        )
    return files[0]


def _latest_cached_version(cache: Path) -> str | None:
    if not cache.is_dir():
        return None
    versions = [entry.name for entry in cache.iterdir() if _NUMERIC.fullmatch(entry.name)]
    return max(versions, key=int, default=None)
