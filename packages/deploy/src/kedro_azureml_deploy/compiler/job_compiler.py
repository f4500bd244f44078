"""Compile a Kedro pipeline into an Azure ML pipeline job: one command step per group of nodes.

``compile_job`` is a pure function of the config, the pipeline, the catalog and the options: no
network, no credential, no absolute path of this machine in its output, and time linear in the
number of nodes and datasets (one pass over the nodes; every lookup is a dictionary).
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.compiler.compiled_job import (
    PIPELINE_JOB_SCHEMA,
    CompiledJob,
    CompiledStep,
)
from kedro_azureml_deploy.compiler.compute_target import default_compute as compiled_default_compute
from kedro_azureml_deploy.compiler.compute_target import step_compute
from kedro_azureml_deploy.compiler.crossings import Crossing, Travel, classify
from kedro_azureml_deploy.compiler.grouping import StepGroup, group_nodes
from kedro_azureml_deploy.compiler.job_identity import identity_spec, identity_variables
from kedro_azureml_deploy.compiler.naming import unique_names
from kedro_azureml_deploy.compiler.output_modes import output_modes, set_output_modes
from kedro_azureml_deploy.compiler.parameter_inputs import (
    StepParameters,
    job_parameter_inputs,
    params_left_in_commands,
    step_parameters,
)
from kedro_azureml_deploy.compiler.routing import route_by_tags
from kedro_azureml_deploy.errors import CompileError
from kedro_azureml_runtime.datasets import AzureMLAssetDataset
from kedro_azureml_runtime.distributed import DistributedConfig, Framework, distributed_config
from kedro_azureml_runtime.step_contract import (
    JOB_NAME_VARIABLE,
    KEDRO_ENV_VARIABLE,
    MLFLOW_EXPERIMENT_VARIABLE,
    StepCommand,
)

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

    from kedro_azureml_deploy.config import AzureMLConfig, EnvironmentConfig, JobConfig

#: Datasets that travel through a mount, so ``execute`` gets ``--az-input/--az-output`` for them.
MOUNTED = {Travel.PIPELINE_DATASET, Travel.ASSET, Travel.INTERMEDIATE}
#: A step's mounts: ``(dataset, placeholder)`` for its ``--az-input``s, then its ``--az-output``s.
Mounts = tuple[list[tuple[str, str]], list[tuple[str, str]]]


@dataclass(frozen=True)
class CompileOptions:
    """What the command line adds to a job of ``azureml.yml``.

    Attributes:
        env: the Kedro environment the steps run with (``KEDRO_ENV``).
        params: runtime parameters (``--params``): the values of the job's parameter inputs
            (see ``parameter_inputs``); what no node reads as a parameter is passed to every step.
        env_vars: extra environment variables of every step (added to the job's ``env_vars``).
        load_versions: dataset name to the version every step loads (``--load-versions``).
        aml_env: an Azure ML environment (``name@latest`` or ``name:version``) for every step,
            instead of the ``environment`` entries.
        code_path: the code snapshot folder as the YAML refers to it (relative to where it is read).
        preflight: check that data crossing steps can travel, and let ``doctor``'s errors stop
            the compilation; only a replay that wants to show what breaks turns it off.
        strict: ``doctor``'s warnings stop the compilation too.
        mlflow_experiment: the MLflow experiment of the job when the project uses MLflow; every
            step then gets the variables the runtime's MLflow hook reads
            (``KEDRO_AZUREML_MLFLOW_EXPERIMENT``, ``KEDRO_AZUREML_JOB_NAME``). ``None`` (no
            MLflow) adds nothing.
    """

    env: str = "base"
    params: Mapping[str, Any] = field(default_factory=dict)
    env_vars: Mapping[str, str] = field(default_factory=dict)
    load_versions: Mapping[str, str] = field(default_factory=dict)
    aml_env: str | None = None
    code_path: str = "."
    preflight: bool = True
    strict: bool = False
    mlflow_experiment: str | None = None


def compile_job(
    *,
    job_name: str,
    job: JobConfig,
    config: AzureMLConfig,
    pipeline: Pipeline,
    catalog: CatalogProtocol,
    options: CompileOptions,
) -> CompiledJob:
    """Compile ``pipeline`` (already filtered as ``job.pipeline`` says) into a pipeline job.

    Raises:
        CompileError: the pipeline is empty, ``--load-versions`` names a dataset the job
            produces, data cannot cross a step boundary (listing every
            offender with producer, consumers and fix), a node matches two compute or
            environment entries, an asset output is a ``uri_file``, or a distributed node's size
            cannot be resolved.
    """
    nodes = pipeline.nodes  # topological order
    if not nodes:
        raise CompileError(
            f"job {job_name!r} selects no node from pipeline {job.pipeline.pipeline_name!r}: "
            "check its pipeline filters in azureml.yml."
        )
    _check_load_versions(job_name, nodes, options.load_versions)
    default_compute = job.compute or "__default__"
    groups = group_nodes(
        job_name=job_name,
        nodes=nodes,
        grouping=job.grouping,
        route=lambda node: _route(node, job, config, default_compute),
    )
    step_of = {node.name: group.name for group in groups for node in group.nodes}
    crossings = _crossings(nodes, step_of, catalog)
    if options.preflight:
        _raise_on_problems(job_name, crossings)
    travel = {crossing.dataset: crossing for crossing in crossings.values()}
    assets = _asset_datasets(nodes, catalog)
    modes = output_modes(nodes, catalog)
    inside = _inside_steps(nodes, step_of)
    ports = unique_names(_mounted_names(nodes, travel, assets, catalog))

    producer_step = {dataset: step_of[node.name] for node in nodes for dataset in node.outputs}
    parameters = job_parameter_inputs(job_name, nodes, catalog)
    options = replace(options, params=params_left_in_commands(options.params, parameters, catalog))
    compiled_steps: list[CompiledStep] = []
    step_specs: dict[str, dict[str, Any]] = {}
    for group in groups:
        step = group.name
        reads, writes = _step_datasets(group.nodes, inside, ports)
        inputs, outputs, mounts = _step_io(group.nodes, reads, travel, assets, ports, producer_step)
        set_output_modes(outputs, group.nodes, ports, modes)
        step_params = step_parameters(group.nodes, parameters, ports=[*inputs, *outputs])
        inputs.update(step_params.inputs)
        spec: dict[str, Any] = {
            "type": "command",
            "display_name": _display_name(group),
            "command": _command(group.nodes, mounts, job, options, config, step_params),
        }
        if config.execution.mode == "code_upload":
            spec["code"] = options.code_path
        spec["environment"] = _environment(config.environment[group.environment], options)
        # grouping keeps a distributed node alone in its step
        distribution = _distribution(group.nodes[0], catalog) if len(group.nodes) == 1 else {}
        where = step_compute(
            config.compute[group.compute], config.compute[default_compute], distribution
        )
        if "compute" in where:
            spec["compute"] = where["compute"]
        spec["environment_variables"] = _environment_variables(job_name, job, options)
        if job.identity is not None:
            spec["identity"] = identity_spec(job.identity)
        if inputs:
            spec["inputs"] = inputs
        if outputs:
            spec["outputs"] = outputs
        if job.timeout:
            spec["limits"] = {"timeout": job.timeout}
        if "distribution" in distribution:
            spec["distribution"] = distribution["distribution"]
        if "resources" in where:
            spec["resources"] = where["resources"]
        step_specs[step] = spec
        compiled_steps.append(
            CompiledStep(
                name=step,
                nodes=tuple(node.name for node in group.nodes),
                compute=group.compute,
                environment=group.environment,
                inputs={name: ports[name] for name in reads if name in ports},
                outputs={
                    name: ports[name]
                    for node in group.nodes
                    for name in node.outputs
                    if name in ports
                },
                depends_on=tuple(sorted({producer_step[name] for name in reads if name in travel})),
                reads=reads,
                writes=writes,
            )
        )

    job_inputs = tuple(sorted(parameters.values(), key=lambda parameter: parameter.name))
    return CompiledJob(
        name=job_name,
        spec=_pipeline_spec(
            job_name,
            job,
            config,
            default_compute,
            step_specs,
            options,
            inputs={parameter.name: parameter.value for parameter in job_inputs},
        ),
        parameter_inputs=job_inputs,
        steps=tuple(compiled_steps),
        crossings=tuple(crossings.values()),
        code_directory=config.execution.code_directory
        if config.execution.mode == "code_upload"
        else None,
        pipeline=job.pipeline.pipeline_name,
        grouping=job.grouping.label(),
        notifications=job.notifications,
    )


def _route(
    node: Node, job: JobConfig, config: AzureMLConfig, default_compute: str
) -> tuple[str, str]:
    """The entries of ``compute`` and ``environment`` the node's tags route it to."""
    compute = route_by_tags(
        node_name=node.name,
        node_tags=node.tags,
        entries=config.compute,
        fallback=default_compute,
        section="compute",
    )
    environment = route_by_tags(
        node_name=node.name,
        node_tags=node.tags,
        entries=config.environment,
        fallback=job.environment or "__default__",
        section="environment",
    )
    return compute, environment


def _display_name(group: StepGroup) -> str:
    return group.label


def _inside_steps(nodes: list[Node], step_of: Mapping[str, str]) -> set[str]:
    """Datasets produced and consumed inside one step only: they stay in memory."""
    producer = {name: step_of[node.name] for node in nodes for name in node.outputs}
    steps_reading: dict[str, set[str]] = defaultdict(set)
    for node in nodes:
        for name in node.inputs:
            steps_reading[name].add(step_of[node.name])
    return {
        name
        for name, readers in steps_reading.items()
        if name in producer and readers == {producer[name]}
    }


def _step_datasets(
    nodes: tuple[Node, ...], inside: set[str], ports: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What a step reads from outside itself and writes for outside itself (see
    ``CompiledStep.reads``/``writes``): a dataset that stays inside the step is written out
    only when it has an output (a pipeline dataset or an asset)."""
    produced = {name for node in nodes for name in node.outputs}
    reads: dict[str, None] = {}
    writes: dict[str, None] = {}
    for node in nodes:
        for name in node.inputs:
            if name not in produced and not _is_parameter(name):
                reads.setdefault(name)
        for name in node.outputs:
            if name not in inside or name in ports:
                writes.setdefault(name)
    return tuple(reads), tuple(writes)


def _is_parameter(name: str) -> bool:
    return name.startswith("params:") or name == "parameters"


def _check_load_versions(
    job_name: str, nodes: list[Node], load_versions: Mapping[str, str]
) -> None:
    """Refuse ``--load-versions`` of a dataset the job itself produces: its consumers read a
    fresh step input holding only the version this job saves, so no other version can load."""
    producers = {name: node.name for node in nodes for name in node.outputs}
    for name, version in load_versions.items():
        if name in producers:
            producer = producers[name]
            raise CompileError(
                f"--load-versions {name}:{version}: dataset {name!r} is produced inside job "
                f"{job_name!r} by node {producer!r}, so its steps only see the version this job "
                f"saves: drop {name} from --load-versions, or load it in a job that reads {name} "
                f"without producing it (one whose pipeline starts after node {producer!r})."
            )


def _crossings(
    nodes: list[Node], step_of: Mapping[str, str], catalog: CatalogProtocol
) -> dict[str, Crossing]:
    """Every dataset one step produces and another consumes, in production order; data between
    two nodes of one step stays in memory and crosses nothing."""
    producers: dict[str, str] = {}
    consumers: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        for name in node.outputs:
            producers[name] = node.name
        for name in node.inputs:
            consumers[name].append(node.name)
    crossings: dict[str, Crossing] = {}
    for name, producer in producers.items():
        outside = [c for c in consumers.get(name, ()) if step_of[c] != step_of[producer]]
        if outside:
            kind, problem = classify(name, catalog)
            crossings[name] = Crossing(name, producer, tuple(outside), kind, problem)
    return crossings


def _raise_on_problems(job_name: str, crossings: Mapping[str, Crossing]) -> None:
    problems = [crossing for crossing in crossings.values() if crossing.problem]
    if problems:
        lines = "\n".join(f"  - {c.describe()}: {c.problem}." for c in problems)
        raise CompileError(
            f"job {job_name!r}: {len(problems)} dataset(s) cannot cross a step boundary on Azure ML:"
            f"\n{lines}"
        )


def _asset_datasets(nodes: list[Node], catalog: CatalogProtocol) -> dict[str, AzureMLAssetDataset]:
    found: dict[str, AzureMLAssetDataset] = {}
    for node in nodes:
        for name in (*node.inputs, *node.outputs):
            if name not in found and not name.startswith("params:") and name in catalog:
                dataset = catalog.get(name)
                if isinstance(dataset, AzureMLAssetDataset):
                    found[name] = dataset
    for node in nodes:
        for name in node.outputs:
            if name in found and found[name].azureml_type == "uri_file":
                raise CompileError(
                    f"dataset {name!r} (node {node.name!r}) is an AzureMLAssetDataset of type "
                    "uri_file written by a step: Azure ML cannot register a uri_file output. Use "
                    "azureml_type: uri_folder for assets that pipeline steps write."
                )
    return found


def _mounted_names(
    nodes: list[Node],
    travel: Mapping[str, Crossing],
    assets: Mapping[str, AzureMLAssetDataset],
    catalog: CatalogProtocol,
) -> list[str]:
    """Datasets that get an input or output port, in order of first appearance: those crossing
    steps, assets, and the other pipeline datasets (a pipeline dataset that stays inside a step
    is still saved to the step's output, and its consumers in the step read it back there)."""
    names: dict[str, None] = {}
    for node in nodes:
        for name in (*node.inputs, *node.outputs):
            if (
                name in travel
                or name in assets
                or _terminal_pipeline_dataset(name, travel, catalog)
            ):
                names.setdefault(name)
    return list(names)


def _terminal_pipeline_dataset(
    name: str, travel: Mapping[str, Crossing], catalog: CatalogProtocol
) -> bool:
    if name in travel or name.startswith("params:") or name == "parameters" or name not in catalog:
        return False
    from kedro_azureml_runtime.datasets import AzureMLPipelineDataset

    return isinstance(catalog.get(name), AzureMLPipelineDataset)


def _step_io(
    nodes: tuple[Node, ...],
    reads: tuple[str, ...],
    travel: Mapping[str, Crossing],
    assets: Mapping[str, AzureMLAssetDataset],
    ports: Mapping[str, str],
    producer_step: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, Any], Mounts]:
    """The step's inputs, outputs and mounts: ``(dataset, placeholder)`` for each
    ``--az-input`` and ``--az-output`` of its command."""
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    mounts: Mounts = ([], [])
    for name in reads:
        if name not in ports:
            continue
        port = ports[name]
        crossing = travel.get(name)
        if crossing is not None:
            inputs[port] = f"${{{{parent.jobs.{producer_step[name]}.outputs.{port}}}}}"
            mounted = crossing.travel in MOUNTED
        elif name in assets:
            inputs[port] = _asset_input(assets[name])
            mounted = True
        else:  # a pipeline dataset nobody in this job produces: read from the code snapshot
            continue
        if mounted:
            mounts[0].append((name, f"${{{{inputs.{port}}}}}"))
    for node in nodes:
        for name in node.outputs:
            if name not in ports:
                continue
            port = ports[name]
            crossing = travel.get(name)
            if name in assets:
                outputs[port] = {"type": "uri_folder", "name": assets[name].azureml_dataset}
            else:
                outputs[port] = {"type": "uri_folder"}
            if crossing is None or crossing.travel in MOUNTED:
                mounts[1].append((name, f"${{{{outputs.{port}}}}}"))
    return inputs, outputs, mounts


def _asset_input(dataset: AzureMLAssetDataset) -> dict[str, Any]:
    reference = (
        f"azureml:{dataset.azureml_dataset}:{dataset.azureml_version}"
        if dataset.azureml_version
        else f"azureml:{dataset.azureml_dataset}@latest"
    )
    return {"type": dataset.azureml_type, "path": reference, "mode": "ro_mount"}


def _command(
    nodes: tuple[Node, ...],
    mounts: Mounts,
    job: JobConfig,
    options: CompileOptions,
    config: AzureMLConfig,
    parameters: StepParameters,
) -> str:
    """The step's ``kedro azureml execute`` command (the runtime's step contract)."""
    command = StepCommand(
        pipeline=job.pipeline.pipeline_name,
        nodes=tuple(node.name for node in nodes),
        inputs=tuple(mounts[0]),
        outputs=tuple(mounts[1]),
        params=options.params,
        load_versions=options.load_versions,
        retries=job.retries,
        parameter_inputs=parameters.arguments,
    ).to_shell()
    if config.execution.mode == "image":
        command = f"cd {shlex.quote(config.execution.working_directory or '.')} && {command}"
    return command


def _environment(entry: EnvironmentConfig, options: CompileOptions) -> str | dict[str, str]:
    if options.aml_env:
        return f"azureml:{options.aml_env}"
    if entry.image:
        return {"image": entry.image}
    return f"azureml:{entry.name}"


def _environment_variables(
    job_name: str, job: JobConfig, options: CompileOptions
) -> dict[str, str]:
    mlflow: dict[str, str] = {}
    if options.mlflow_experiment is not None:  # the user's env_vars may still override them
        mlflow = {
            MLFLOW_EXPERIMENT_VARIABLE: options.mlflow_experiment,
            JOB_NAME_VARIABLE: job_name,
        }
    variables = {
        **mlflow,
        **identity_variables(job.identity),
        **job.env_vars,
        **options.env_vars,
        KEDRO_ENV_VARIABLE: options.env,
    }
    return dict(sorted(variables.items()))


def _distribution(node: Node, catalog: CatalogProtocol) -> dict[str, Any]:
    config = distributed_config(node.func)
    if config is None:
        return {}
    instances = _resolve_size(node, config, "num_nodes", catalog)
    processes = _resolve_size(node, config, "processes_per_node", catalog)
    if config.framework is Framework.TensorFlow:
        distribution: dict[str, Any] = {"type": "tensorflow", "worker_count": instances}
    else:
        distribution = {
            "type": config.framework.value,
            "process_count_per_instance": processes or 1,
        }
    return {"distribution": distribution, "resources": {"instance_count": instances}}


def _resolve_size(
    node: Node, config: DistributedConfig, attribute: str, catalog: CatalogProtocol
) -> int | None:
    value = getattr(config, attribute)
    if not isinstance(value, str):
        return value
    try:
        resolved = catalog.load(value)
    except Exception as exc:
        raise CompileError(
            f"node {node.name!r}: @distributed_job {attribute}={value!r} names a parameter that "
            f"does not exist ({exc}). Add it to conf/base/parameters.yml."
        ) from None
    if isinstance(resolved, bool) or not isinstance(resolved, int) or resolved < 1:
        raise CompileError(
            f"node {node.name!r}: @distributed_job {attribute}={value!r} is {resolved!r}; it must "
            "be a positive integer."
        )
    return resolved


def _pipeline_spec(
    job_name: str,
    job: JobConfig,
    config: AzureMLConfig,
    default_compute: str,
    steps: dict[str, dict[str, Any]],
    options: CompileOptions,
    *,
    inputs: Mapping[str, Any],
) -> dict[str, Any]:
    # Azure ML files each step's MLflow run under the pipeline's experiment: the same one a local
    # replay logs into when the project uses MLflow.
    experiment = job.experiment_name or options.mlflow_experiment or job_name
    spec: dict[str, Any] = {
        "$schema": PIPELINE_JOB_SCHEMA,
        "type": "pipeline",
        "display_name": job.display_name or job_name,
        "experiment_name": experiment,
    }
    if job.description:
        spec["description"] = job.description
    if job.tags:
        spec["tags"] = dict(sorted(job.tags.items()))
    if job.identity is not None:
        spec["identity"] = identity_spec(job.identity)
    if inputs:  # the Kedro parameters the nodes read (see parameter_inputs)
        spec["inputs"] = dict(inputs)
    spec["settings"] = {
        "default_compute": compiled_default_compute(config.compute[default_compute]),
        "continue_on_step_failure": job.continue_on_step_failure,
        "force_rerun": job.force_rerun or not job.step_reuse,
    }
    spec["jobs"] = steps
    return spec
