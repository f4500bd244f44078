"""Distributed training steps: ``@distributed_job`` metadata and the rank helpers.

The decorator changes nothing about how a node runs locally; it attaches a ``DistributedConfig``
that the compiler turns into a multi-instance Azure ML step with the matching distribution. Inside
such a step every process runs the node, and only the master process saves outputs (both plugin
datasets and undeclared intermediates check :func:`is_distributed_master`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute name the compiler reads on a node's function.
DISTRIBUTED_ATTRIBUTE = "__kedro_azureml_distributed__"


class Framework(StrEnum):
    """Distribution kinds Azure ML command steps support."""

    PyTorch = "pytorch"
    TensorFlow = "tensorflow"
    MPI = "mpi"


@dataclass(frozen=True)
class DistributedConfig:
    """How a node's step is spread over instances and processes.

    ``num_nodes`` and ``processes_per_node`` are integers or ``"params:<name>"`` references that the
    compiler resolves from the project's parameters.
    """

    framework: Framework
    num_nodes: int | str
    processes_per_node: int | str | None = None


def distributed_job(
    framework: Framework,
    num_nodes: int | str,
    processes_per_node: int | str | None = None,
) -> Callable[[F], F]:
    """Mark a node function as a distributed training job.

    Args:
        framework: ``Framework.PyTorch``, ``Framework.TensorFlow`` or ``Framework.MPI``.
        num_nodes: instance count, or ``"params:<name>"`` to read it from the parameters.
        processes_per_node: processes per instance (PyTorch and MPI), an integer or a
            ``"params:<name>"`` reference; ``None`` lets Azure ML use one.

    Returns:
        A decorator that returns the very same function with the configuration attached.
    """
    framework = Framework(framework)
    for label, value in (("num_nodes", num_nodes), ("processes_per_node", processes_per_node)):
        if value is None and label == "processes_per_node":
            continue
        if isinstance(value, bool) or not (
            (isinstance(value, int) and value >= 1)
            or (isinstance(value, str) and value.startswith("params:"))
        ):
            raise ValueError(
                f"distributed_job {label} must be a positive integer or 'params:<name>', "
                f"got {value!r}."
            )
    config = DistributedConfig(framework, num_nodes, processes_per_node)

    def decorate(func: F) -> F:
        setattr(func, DISTRIBUTED_ATTRIBUTE, config)
        return func

    return decorate


def distributed_config(func: Callable[..., Any]) -> DistributedConfig | None:
    """The configuration ``@distributed_job`` attached to ``func``, if any."""
    return getattr(func, DISTRIBUTED_ATTRIBUTE, None)


def distributed_rank() -> int | None:
    """This process's global rank in a distributed step, or ``None`` outside one.

    Reads ``RANK`` (PyTorch), ``OMPI_COMM_WORLD_RANK`` (MPI) or ``TF_CONFIG`` (TensorFlow, where
    the chief, or worker 0 when there is no chief, counts as rank 0).
    """
    for variable in ("RANK", "OMPI_COMM_WORLD_RANK"):
        value = os.environ.get(variable)
        if value not in (None, ""):
            return int(value)
    tf_config = os.environ.get("TF_CONFIG")
    if tf_config:
        parsed = json.loads(tf_config)
        task, cluster = parsed.get("task", {}), parsed.get("cluster", {})
        kind, index = task.get("type"), int(task.get("index", 0))
        chiefs, workers = len(cluster.get("chief", [])), len(cluster.get("worker", []))
        if kind == "chief":
            return index
        if kind == "worker":
            return chiefs + index
        return chiefs + workers + index  # parameter servers and evaluators never save
    return None


def is_distributed_master() -> bool:
    """True outside distributed steps and in the master process of one; it alone saves outputs."""
    rank = distributed_rank()
    return rank is None or rank == 0
