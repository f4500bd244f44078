"""Where a step runs, as the pipeline job says it: on a compute cluster (``compute``) or on
serverless compute (``resources.instance_type``, with ``compute: serverless`` only when the
pipeline's default compute is a cluster, which the step would otherwise inherit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro_azureml_deploy.config import ComputeConfig

#: azure-ai-ml's name for serverless compute (``azure.ai.ml.constants._common.SERVERLESS_COMPUTE``).
SERVERLESS = "serverless"


def default_compute(entry: ComputeConfig) -> str:
    """The pipeline's ``settings.default_compute`` for the job's default ``compute`` entry."""
    return SERVERLESS if entry.serverless else f"azureml:{entry.cluster_name}"


def step_compute(
    entry: ComputeConfig, default: ComputeConfig, distribution: dict[str, Any]
) -> dict[str, Any]:
    """The keys of a step that say where it runs (``compute``, ``resources``), merged with the
    ``resources`` of its distribution (``_distribution``'s ``instance_count`` wins: a distributed
    node asks for its own count)."""
    keys: dict[str, Any] = {}
    if not entry.serverless:
        keys["compute"] = f"azureml:{entry.cluster_name}"
        resources: dict[str, Any] = {}
    else:
        if not default.serverless:
            keys["compute"] = SERVERLESS
        resources = {"instance_type": entry.instance_type}
        if entry.instance_count is not None:
            resources["instance_count"] = entry.instance_count
    resources.update(distribution.get("resources", {}))
    if resources:
        keys["resources"] = resources
    return keys


def describe_compute(spec: dict[str, Any], default: str | None) -> str | None:
    """The compute of a compiled step in words (``cpu-cluster``, ``serverless Standard_DS3_v2
    x2``); ``None`` when the step names none and inherits ``default``, which is described the same
    way (the pipeline's ``settings.default_compute``)."""
    compute = spec.get("compute") or default
    resources = spec.get("resources") or {}
    if compute == SERVERLESS or (compute is None and resources.get("instance_type")):
        described = f"serverless {resources.get('instance_type', '')}".rstrip()
        count = resources.get("instance_count")
        return f"{described} x{count}" if count and count != 1 else described
    if isinstance(compute, str):
        return compute.removeprefix("azureml:")
    return None
