"""``CompiledJob``: an Azure ML pipeline job compiled from a Kedro pipeline, as YAML and as objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kedro_azureml_deploy.compiler.crossings import Crossing
from kedro_azureml_deploy.errors import CompileError

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob

PIPELINE_JOB_SCHEMA = "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json"

# libyaml's dumper writes the same bytes as PyYAML's pure-Python one, several times faster.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


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
        writes: every dataset it writes for outside itself (another step, or out of the job).
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
    """

    name: str
    spec: dict[str, Any]
    steps: tuple[CompiledStep, ...]
    crossings: tuple[Crossing, ...]
    code_directory: str | None
    pipeline: str = "__default__"
    grouping: str = "none"

    def to_yaml(self) -> str:
        """The pipeline job as YAML (deterministic: same input, same bytes)."""
        return yaml.dump(
            self.spec, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, width=100_000
        )

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
