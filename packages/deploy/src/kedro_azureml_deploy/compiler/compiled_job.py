"""``CompiledJob``: an Azure ML pipeline job compiled from a Kedro pipeline, as YAML and as objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kedro_azureml_deploy.compiler.crossings import Crossing
from kedro_azureml_deploy.compiler.parameter_inputs import ParameterInput, set_input_value
from kedro_azureml_deploy.errors import CompileError, ConfigError

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob

    from kedro_azureml_deploy.config.notifications import NotificationsConfig

PIPELINE_JOB_SCHEMA = "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json"

# libyaml's dumper writes the same bytes as PyYAML's pure-Python one, several times faster.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_yaml(spec: Mapping[str, Any]) -> str:
    """A pipeline job as ``compile`` writes it (deterministic: same input, same bytes)."""
    return yaml.dump(
        dict(spec), Dumper=_DUMPER, sort_keys=False, default_flow_style=False, width=100_000
    )


@dataclass(frozen=True)
class CompiledStep:
    """One command step: the Kedro node(s) it runs and where.

    Attributes:
        name: the step's name in the pipeline job.
        nodes: the Kedro nodes it runs, in topological order.
        compute: its entry of ``compute``.
        environment: its entry of ``environment``.
        inputs: dataset to input port, for each dataset mounted into the step.
        outputs: dataset to output port, for each dataset the step writes to an output.
        depends_on: the steps whose outputs it reads.
        reads: every dataset the step reads from outside itself (another step, or outside the
            job), parameters left out; data between two of its own nodes stays in memory.
        writes: every dataset it writes for outside itself: to another step, out of the job, or
            to an output of its own (a pipeline dataset or an asset).
    """

    name: str
    nodes: tuple[str, ...]
    compute: str
    environment: str
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompiledJob:
    """What ``kedro azureml compile`` produces for one job of ``azureml.yml``.

    Attributes:
        name: the job's name in ``azureml.yml``.
        spec: the pipeline job as a plain dictionary, exactly what ``to_yaml`` writes.
        steps: the steps in topological order.
        crossings: every dataset passed from one step to another, and how it travels.
        code_directory: the code snapshot folder relative to the project, ``None`` in image mode.
        pipeline: the registered Kedro pipeline the steps run.
        grouping: how nodes were grouped into steps (see ``compiler.grouping``).
        parameter_inputs: the pipeline inputs holding Kedro parameters, by name (the ``inputs``
            of ``spec``).
        notifications: the job's ``notifications``: not in ``spec``, since azure-ai-ml's
            pipeline job YAML has no key for them; the submitter adds them to the request (see
            ``azure.notifications``).
    """

    name: str
    spec: dict[str, Any]
    steps: tuple[CompiledStep, ...]
    crossings: tuple[Crossing, ...]
    code_directory: str | None
    pipeline: str = "__default__"
    grouping: str = "none"
    parameter_inputs: tuple[ParameterInput, ...] = ()
    notifications: NotificationsConfig | None = None

    def with_inputs(self, values: Mapping[str, Any], *, where: str) -> CompiledJob:
        """This job with the values of some inputs set, as when it is triggered with new inputs
        (a schedule's ``inputs``); only the pipeline's ``inputs`` change.

        Args:
            values: input name to its new value (YAML-typed).
            where: where the values come from, for messages (``schedules.nightly.inputs``).

        Raises:
            ConfigError: a name is not an input of the job, or a value not of its input's type.
        """
        known = {parameter.name: parameter for parameter in self.parameter_inputs}
        inputs = dict(self.spec.get("inputs") or {})
        for name, value in values.items():
            if name not in known:
                raise ConfigError(unknown_input_message(self.name, name, known, where=where))
            inputs[name] = set_input_value(known[name], value, where=f"{where}.{name}")
        if not values:
            return self
        return replace(self, spec={**self.spec, "inputs": inputs})

    def with_tags(self, tags: Mapping[str, str]) -> CompiledJob:
        """This job with ``tags`` added to the pipeline job's tags (see ``source_tags``); a tag
        the job sets itself in ``azureml.yml`` keeps its value."""
        if not tags:
            return self
        merged = {**tags, **(self.spec.get("tags") or {})}
        spec = dict(self.spec)
        spec["tags"] = dict(sorted(merged.items()))
        if "tags" not in self.spec:  # keep the key order of a compiled job: tags before inputs
            ordered = {}
            for key, value in spec.items():
                if key in ("inputs", "settings", "jobs") and "tags" not in ordered:
                    ordered["tags"] = spec["tags"]
                if key != "tags":
                    ordered[key] = value
            spec = ordered
        return replace(self, spec=spec)

    def to_yaml(self) -> str:
        """The pipeline job as YAML (deterministic: same input, same bytes)."""
        return dump_yaml(self.spec)

    def write(self, path: Path) -> Path:
        """Write ``to_yaml()`` to ``path``, creating its folder.

        Raises:
            CompileError: the file cannot be written (the message says why and what to do).
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(self.to_yaml(), encoding="utf-8")
        except OSError as exc:
            raise CompileError(
                f"cannot write the compiled job to {path}: {exc.strerror or exc}. Choose another "
                "file with -o/--output, or fix that folder's permissions or free space."
            ) from None
        return path

    def to_pipeline_job(self, project_path: Path) -> PipelineJob:
        """The job as azure-ai-ml's ``PipelineJob``, code paths resolved from ``project_path``.

        Imports azure-ai-ml: only the submitter, the scheduler and tests call it.
        """
        import io

        from azure.ai.ml import load_job

        stream = io.StringIO(self.to_yaml())
        # load_job resolves relative paths from the folder of `relative_origin`, a YAML file's
        # path: a job compiled without an output file has its code path relative to the
        # project root, as submission and schedules compile it.
        origin = Path(project_path) / f"azureml-{self.name}.yml"
        return load_job(stream, relative_origin=str(origin))


def unknown_input_message(job_name: str, name: str, known: Mapping[str, Any], *, where: str) -> str:
    """``name`` is not an input of job ``job_name``: the inputs it has, and the input of a Kedro
    name (``model.lr``) given instead of its input's."""
    from kedro_azureml_deploy.compiler.parameter_inputs import PARAMS_PREFIX, input_name

    hint = ""
    for dataset in (name, PARAMS_PREFIX + name.removeprefix(PARAMS_PREFIX)):
        try:
            if input_name(dataset) in known and input_name(dataset) != name:
                hint = f" (the input of parameter {dataset} is {input_name(dataset)!r})"
        except ValueError:
            pass
    listed = ", ".join(sorted(known)) or "none: no node of the job reads a parameter"
    return (
        f"{where}: job {job_name!r} has no input {name!r}{hint}; its inputs are the parameters "
        f"its nodes read: {listed}."
    )
