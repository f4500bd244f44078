"""The code upload: a compiled job as azure-ai-ml's ``PipelineJob``, its steps' ``code`` a fresh copy
of the code snapshot (see ``kedro_azureml_deploy.snapshot``), which azure-ai-ml uploads when the job
or schedule is created."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.ai.ml.entities import PipelineJob

    from kedro_azureml_deploy.compiler import CompiledJob
    from kedro_azureml_deploy.snapshot.code_snapshot import CodeSnapshot


@contextmanager
def pipeline_job_with_snapshot(
    compiled: CompiledJob, project_path: Path, snapshot: CodeSnapshot | None = None
) -> Iterator[tuple[PipelineJob, CodeSnapshot | None]]:
    """The compiled job as a ``PipelineJob`` whose steps' ``code`` is a fresh snapshot of the
    project's code folder, in a temporary folder that lives as long as the ``with`` block (the
    upload happens when the job or schedule is created inside it). In image mode there is no
    code to snapshot: the job is used as compiled, with ``None`` for the snapshot.

    Args:
        compiled: the compiled job.
        project_path: the project it was compiled from.
        snapshot: the code snapshot already taken for this command (by ``doctor``); taken here
            when ``None``.

    Raises:
        SubmitError: the code folder does not exist or has nothing to upload.
    """
    if compiled.code_directory is None:
        yield compiled.to_pipeline_job(project_path), None
        return
    if snapshot is None:
        from kedro_azureml_deploy.snapshot.code_snapshot import code_snapshot

        snapshot = code_snapshot(project_path, compiled.code_directory)
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as temporary:
        # The folder's name becomes the last part of the upload's path in the workspace storage.
        folder = snapshot.copy_to(Path(temporary) / (snapshot.source.name or "code"))
        spec = copy.deepcopy(compiled.spec)
        for step in spec["jobs"].values():
            if "code" in step:
                step["code"] = "."
        yield replace(compiled, spec=spec).to_pipeline_job(folder), snapshot
