"""What each step of a compiled job reads, from the opened project: the finer part of a fingerprint.

A step's nodes come from its compiled command (``--node``, one or several), never from an
assumption of one node per step. For each dataset those nodes load or save:

- mounted on the command line (``--az-input``/``--az-output``): the input folder's digest sees it;
- ``params:NAME`` or ``parameters``: its value (``conf/`` with the step's ``--params`` applied) is
  fingerprinted on its own, so a changed parameter re-runs only the steps that consume it;
- a local file or folder inside the project (a raw input shipped in the snapshot): its digest is
  fingerprinted on its own, and the file leaves the code digest;
- made and used inside the step (an undeclared intermediate, a ``MemoryDataset``): nothing to see;
- anything else (remote storage, a database, an API, a path outside the project or through a link
  leaving it): the fingerprint cannot see it change, so the step is never reused.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import click

from kedro_azureml_deploy.compiler.crossings import local_path
from kedro_azureml_runtime.datasets import AzureMLAssetDataset, AzureMLPipelineDataset
from kedro_azureml_runtime.step_contract import EXECUTE, StepCommand, step_options

if TYPE_CHECKING:
    from kedro_azureml_deploy.project import KedroProject
    from kedro_azureml_deploy.replay.compiled_file import CompiledFile

#: Kedro's default patterns of parameter files, left out of the code digest.
PARAMETER_FILES = ("parameters", "**/parameters*", "parameters*", "parameters*/**")


@dataclass(frozen=True)
class StepReads:
    """What one step's nodes read, as far as the fingerprint can see.

    Attributes:
        files: project-relative path (posix) of each local file or folder the nodes read.
        parameters: each consumed parameter (``model_options.test_size``, or ``parameters``) to
            its value.
        unseen: each dataset the fingerprint cannot see, with why (``companies (remote
            storage)``); a step with any is never reused.
    """

    files: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    unseen: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobReads:
    """What the steps of a job read.

    Attributes:
        steps: each step's reads.
        leave_out: snapshot-relative paths left out of the code digest (files some step reads,
            fingerprinted on their own, and parameter files).
        code_prefix: the code folder relative to the project (``""`` for the project itself), to
            turn project paths into snapshot paths.
    """

    steps: Mapping[str, StepReads]
    leave_out: frozenset[str]
    code_prefix: str = ""


def step_command(command: str) -> StepCommand | None:
    """The ``kedro azureml execute`` invocation in a compiled command, ``None`` if there is none
    (a hand-written step)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for index in range(len(words) - len(EXECUTE) + 1):
        if tuple(words[index : index + len(EXECUTE)]) == EXECUTE:
            arguments = words[index + len(EXECUTE) :]
            break
    else:
        return None
    arguments = arguments[: next((i for i, w in enumerate(arguments) if w in ("&&", ";")), None)]

    @click.command()
    @step_options
    def parse(**options: Any) -> StepCommand:
        return StepCommand.from_options(
            pipeline=options["pipeline"],
            nodes=options["nodes"],
            az_inputs=options["az_inputs"],
            az_outputs=options["az_outputs"],
            params=options["params"],
            load_versions=options["load_versions"],
            retries=options["retries"],
        )

    try:
        return parse.main(arguments, standalone_mode=False)
    except click.ClickException:
        return None


def job_reads(project: KedroProject, job: CompiledFile) -> JobReads:
    """What each step of ``job`` (compiled from ``project``) reads."""
    from kedro_azureml_deploy.project import load_pipelines

    root = project.path.resolve()
    code = (job.code or root).resolve()
    prefix = "" if code == root else code.relative_to(root).as_posix()
    catalog = project.catalog
    pipelines = load_pipelines()
    steps: dict[str, StepReads] = {}
    read_files: set[str] = set()
    for name, spec in job.steps.items():
        invocation = step_command(spec.command)
        if invocation is None or invocation.pipeline not in pipelines:
            steps[name] = StepReads(unseen=("its command is not `kedro azureml execute`",))
            continue
        nodes = [n for n in pipelines[invocation.pipeline].nodes if n.name in invocation.nodes]
        mounted = {dataset for dataset, _ in (*invocation.inputs, *invocation.outputs)}
        made_here = {output for node in nodes for output in node.outputs}
        files: set[str] = set()
        unseen: list[str] = []
        parameters: dict[str, Any] = {}
        for dataset in sorted({d for node in nodes for d in (*node.inputs, *node.outputs)}):
            if dataset in mounted:
                continue
            if dataset == "parameters" or dataset.startswith("params:"):
                key = dataset.removeprefix("params:")
                parameters[key] = _parameter(project, invocation.params, key)
                continue
            if dataset not in catalog:
                if dataset not in made_here:  # read, made by no node of the step, not mounted
                    unseen.append(f"{dataset} (not in the catalog, nor mounted)")
                continue
            where = _local_file(catalog.get(dataset), root)
            if isinstance(where, str):
                files.add(where)
            elif dataset in made_here and where is None and _in_memory(catalog.get(dataset)):
                continue
            elif where is not None:
                unseen.append(f"{dataset} ({where[0]})")
        read_files |= files
        steps[name] = StepReads(tuple(sorted(files)), parameters, tuple(unseen))
    leave_out = {_in_snapshot(path, prefix) for path in read_files} - {None}
    return JobReads(
        steps=steps,
        leave_out=frozenset({*leave_out, *_parameter_files(project, prefix)}),  # type: ignore[misc]
        code_prefix=prefix,
    )


def _in_memory(dataset: Any) -> bool:
    from kedro.io import MemoryDataset

    return isinstance(dataset, MemoryDataset)


def _local_file(dataset: Any, root: Path) -> str | tuple[str] | None:
    """The project-relative path of a local dataset, ``(why,)`` when the fingerprint cannot see
    it, ``None`` for a dataset living in memory."""
    if isinstance(dataset, AzureMLAssetDataset | AzureMLPipelineDataset):
        return ("a plugin dataset not mounted by this step",)
    if _in_memory(dataset):
        return None
    location = local_path(dataset)
    if location is None:
        return (f"{type(dataset).__name__}: remote storage or no file",)
    path = Path(location) if Path(location).is_absolute() else root / location
    if not path.resolve().is_relative_to(root):
        return ("outside the project, or through a link leaving it",)
    return path.resolve().relative_to(root).as_posix()


def _in_snapshot(path: str, prefix: str) -> str | None:
    if not prefix:
        return path
    if PurePosixPath(path).is_relative_to(prefix):
        return PurePosixPath(path).relative_to(prefix).as_posix()
    return None


def _parameter(project: KedroProject, runtime: Mapping[str, Any], key: str) -> Any:
    """The value of parameter ``key`` (dotted) with the step's runtime parameters applied."""
    merged = _merge(dict(project.configured_parameters), runtime)
    if key == "parameters":
        return merged
    value: Any = merged
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return "<not defined>"
        value = value[part]
    return value


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        head, _, rest = str(key).partition(".")
        if rest:
            value = {rest: value}
        if isinstance(value, Mapping) and isinstance(base.get(head), Mapping):
            base[head] = _merge(dict(base[head]), value)
        else:
            base[head] = value
    return base


def _parameter_files(project: KedroProject, prefix: str) -> set[str]:
    """The snapshot-relative paths of the project's parameter files (``conf/**/parameters*``)."""
    conf = project.path / "conf"
    if not conf.is_dir():
        return set()
    found = set()
    for path in conf.rglob("parameters*"):
        relative = path.relative_to(project.path.resolve() if path.is_absolute() else project.path)
        snapshot = _in_snapshot(relative.as_posix(), prefix)
        if snapshot is not None:
            found.add(snapshot)
    return found
