"""Catalog paths that leave where a step may read and write.

A step reads and writes its working copy of the code and the folders Azure ML mounts for it, and
nothing else reaches the next step or the user. So a plugin dataset whose ``filepath`` climbs out
of its mount (``../``, an absolute path) is an error (the runtime refuses it in the step, before
any node runs), and so is any dataset whose local path resolves outside the project: the step's
copy of the project does not have it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from kedro_azureml_deploy.compiler.crossings import local_path
from kedro_azureml_deploy.doctor.findings import Finding, Severity
from kedro_azureml_runtime.datasets import AzureMLPipelineDataset

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline


def paths_leaving_their_place(
    pipeline: Pipeline, catalog: CatalogProtocol, project_path: Path
) -> list[Finding]:
    """A finding for each dataset of ``pipeline`` whose path leaves its mount (plugin datasets) or
    the project (any dataset with a local path)."""
    findings = []
    root = project_path.resolve()
    for name in sorted(pipeline.datasets()):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        if isinstance(dataset, AzureMLPipelineDataset):
            if _climbs_out(dataset.filepath):
                findings.append(
                    Finding(
                        Severity.ERROR,
                        name,
                        f"its filepath {dataset.filepath!r} leads outside the folder Azure ML "
                        "mounts for it, and the step refuses it before running any node",
                        "give it a filepath relative to its folder, without `..` and not absolute",
                    )
                )
            continue
        location = local_path(dataset)
        if location is None:
            continue
        resolved = (root / location).resolve()
        if not resolved.is_relative_to(root):
            findings.append(
                Finding(
                    Severity.ERROR,
                    name,
                    f"its path {location} is outside the project, so no step has it (a step gets "
                    "a copy of the project's code, nothing else of this machine)",
                    "make it an AzureMLAssetDataset, store it remotely (abfs://…), or move it "
                    "into the project",
                )
            )
    return findings


def _climbs_out(filepath: str) -> bool:
    path = PurePosixPath(filepath)
    if path.is_absolute():
        return True
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            return True
    return False
