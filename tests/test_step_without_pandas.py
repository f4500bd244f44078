"""A step whose nodes do not use pandas does not import it, even where pandas is installed: Kedro's
``MemoryDataset`` would import it (and numpy, ibis) to pick each parameter's copy mode."""

from __future__ import annotations

import json
import pickle
import textwrap

import pytest

from project_factory import NodeSpec, pipeline_dataset

# settings.py: when the process ends, say which of pandas and numpy it imported.
SETTINGS = textwrap.dedent(
    """\
    import atexit
    import json
    import os
    import sys


    def _report():
        with open(os.environ["MODULES_LOG"], "a") as stream:
            stream.write(json.dumps(sorted({"pandas", "numpy"} & set(sys.modules))) + "\\n")


    atexit.register(_report)
    """
)


def test_a_step_does_not_import_pandas_when_its_nodes_do_not(make_project, mounts, tmp_path):
    nodes = [NodeSpec("first", "identity", ["params:seed"], ["out"])]
    project = make_project(
        nodes=nodes,
        catalog={"out": pipeline_dataset("out.pkl")},
        parameters={"seed": 41, "model": {"layers": [1, 2], "name": "m"}},
        settings=SETTINGS,
    )
    log = tmp_path / "modules.jsonl"
    env = {"MODULES_LOG": str(log)}

    project.kedro("run", "--nodes", "first", env=env, check=True)
    project.execute("first", outputs={"out": mounts / "o"}, env=env, check=True)

    kedro_run, step = (json.loads(line) for line in log.read_text().splitlines())
    assert kedro_run == ["numpy", "pandas"]  # pandas is installed, and Kedro imports it
    assert step == []
    with (mounts / "o" / "out.pkl").open("rb") as stream:
        assert pickle.load(stream) == 41


@pytest.mark.parametrize("kind", ["pandas", "numpy", "plain"])
def test_parameter_copy_mode_is_the_one_kedro_infers_for_tables_and_arrays(kind):
    import numpy as np
    import pandas as pd
    from kedro.io.memory_dataset import _infer_copy_mode

    from kedro_azureml_runtime.parameter_datasets import parameter_copy_mode

    value = {"pandas": pd.DataFrame({"a": [1]}), "numpy": np.arange(3), "plain": [1]}[kind]

    assert parameter_copy_mode(value) == _infer_copy_mode(value)
