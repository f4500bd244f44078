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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from kedro_azureml_deploy.replay.step_variables import steps_environment

#: Keeps git from finding the project's repository above a step's working copy (the run folder is
#: in the project): on Azure ML the code upload has no ``.git`` and no repository above it, so
#: Kedro's session (its ``git`` data) and MLflow (its source tags) find none there either.
GIT_CEILING = "GIT_CEILING_DIRECTORIES"
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
    env[GIT_CEILING] = os.pathsep.join(
        filter(None, [str(run.step_folder(step.name)), env.get(GIT_CEILING)])
    )
    return PreparedStep(command=command, cwd=cwd, env=env, inputs=inputs)


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
