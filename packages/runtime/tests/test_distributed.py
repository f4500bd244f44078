"""``@distributed_job`` and rank detection."""

from __future__ import annotations

import json

import pytest

from kedro_azureml_runtime.distributed import (
    DistributedConfig,
    Framework,
    distributed_config,
    distributed_job,
    distributed_rank,
    is_distributed_master,
)


def test_decorator_is_a_pass_through_that_attaches_its_config():
    def train(x):
        return x * 2

    decorated = distributed_job(Framework.PyTorch, num_nodes=2, processes_per_node="params:gpus")(
        train
    )

    assert decorated is train and decorated(3) == 6
    assert distributed_config(train) == DistributedConfig(Framework.PyTorch, 2, "params:gpus")


@pytest.mark.parametrize("num_nodes", [0, -1, "2", True, 1.5])
def test_invalid_node_counts_are_refused(num_nodes):
    with pytest.raises(ValueError, match="num_nodes must be a positive integer or 'params:<name>'"):
        distributed_job(Framework.MPI, num_nodes=num_nodes)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("RANK", "OMPI_COMM_WORLD_RANK", "TF_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("variables", "rank", "master"),
    [
        ({}, None, True),
        ({"RANK": "0"}, 0, True),
        ({"RANK": "3"}, 3, False),
        ({"OMPI_COMM_WORLD_RANK": "0"}, 0, True),
        ({"OMPI_COMM_WORLD_RANK": "2"}, 2, False),
        (
            {
                "TF_CONFIG": {
                    "cluster": {"worker": ["a", "b"]},
                    "task": {"type": "worker", "index": 0},
                }
            },
            0,
            True,
        ),
        (
            {
                "TF_CONFIG": {
                    "cluster": {"worker": ["a", "b"]},
                    "task": {"type": "worker", "index": 1},
                }
            },
            1,
            False,
        ),
        (
            {
                "TF_CONFIG": {
                    "cluster": {"chief": ["c"], "worker": ["a"]},
                    "task": {"type": "chief", "index": 0},
                }
            },
            0,
            True,
        ),
        (
            {
                "TF_CONFIG": {
                    "cluster": {"chief": ["c"], "worker": ["a"]},
                    "task": {"type": "worker", "index": 0},
                }
            },
            1,
            False,
        ),
        (
            {
                "TF_CONFIG": {
                    "cluster": {"worker": ["a"], "ps": ["p"]},
                    "task": {"type": "ps", "index": 0},
                }
            },
            1,
            False,
        ),
    ],
)
def test_rank_and_master_detection(clean_env, variables, rank, master):
    for name, value in variables.items():
        clean_env.setenv(name, value if isinstance(value, str) else json.dumps(value))
    assert distributed_rank() == rank
    assert is_distributed_master() is master
