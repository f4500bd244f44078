"""Parameters go into a step's catalog as Kedro's own ``MemoryDataset`` would hold them, without
importing pandas to choose their copy mode (``parameter_datasets``), in real Kedro projects."""

from __future__ import annotations

import pickle
import textwrap

import pytest
from kedro.io.memory_dataset import _infer_copy_mode

from kedro_azureml_runtime.parameter_datasets import parameter_copy_mode
from project_factory import NodeSpec, pipeline_dataset


class DataFrame:
    """Any class named DataFrame (polars, Spark) is assigned, not copied, by Kedro."""


@pytest.mark.parametrize(
    "value", [1, 0.5, "text", None, True, [1, [2]], {"a": {"b": [1]}}, (1, 2), DataFrame()]
)
def test_parameter_copy_mode_is_the_one_kedro_infers(value):
    assert parameter_copy_mode(value) == _infer_copy_mode(value)


def test_parameters_are_copied_for_each_node_as_in_kedro_run(make_project, mounts, tmp_path):
    """A node that changes its parameter in place does not change what the next node reads."""
    functions = textwrap.dedent(
        """

        def grab(config):
            config["items"].append("grabbed")
            return config


        def look(config, grabbed):
            return {"seen": config, "grabbed": grabbed}
        """
    )
    nodes = [
        NodeSpec("grab", "grab", ["params:config"], ["grabbed"]),
        NodeSpec("look", "look", ["params:config", "grabbed"], ["looked"]),
    ]
    catalog = {"looked": {"type": "pickle.PickleDataset", "filepath": "data/looked.pkl"}}
    project = make_project(
        nodes=nodes,
        catalog=catalog,
        parameters={"config": {"items": ["a"]}},
        extra_functions=functions,
    )
    project.kedro("run", check=True)
    with (project.path / "data" / "looked.pkl").open("rb") as stream:
        kedro_run = pickle.load(stream)
    catalog["looked"] = pipeline_dataset("looked.pkl")
    project.catalog = catalog
    project.write()

    project.execute("grab", "look", outputs={"looked": mounts / "o"}, check=True)

    with (mounts / "o" / "looked.pkl").open("rb") as stream:
        step = pickle.load(stream)
    assert (
        step
        == kedro_run
        == {
            "seen": {"items": ["a"]},
            "grabbed": {"items": ["a", "grabbed"]},
        }
    )
