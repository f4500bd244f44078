"""The job's inputs (Kedro parameters) in the replay: "resubmit with new inputs", rehearsed offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.compiled_file import read_compiled_file, with_inputs
from project_factory import NodeSpec, pipeline_dataset

from .conftest import compile_job, replay

DESCRIBE = """

def describe(rate, options, greeting):
    return {"rate": rate, "options": options, "greeting": greeting}
"""

#: What a string input may hold and still reach the node unchanged through the shell.
AWKWARD = 'it\'s "quoted", $HOME `id` $(id) ; && é 日本'


def parameter_project(make_project):
    return make_project(
        nodes=[
            NodeSpec("first", "identity", ["params:model.rate"], ["rate"]),
            NodeSpec("second", "describe", ["rate", "params:model", "params:greeting"], ["out"]),
        ],
        catalog={
            "rate": pipeline_dataset("rate.pkl"),
            "out": pipeline_dataset("out.json", "json.JSONDataset"),
        },
        parameters={"model": {"rate": 0.5, "depth": 2}, "greeting": "hello"},
        extra_functions=DESCRIBE,
    )


def seen_by_the_node(run: Path) -> dict:
    return json.loads((run / "second" / "outputs" / "out" / "out.json").read_text())


@pytest.mark.slow
def test_new_input_values_reach_the_nodes_that_read_them(make_project):
    project = parameter_project(make_project)
    job_file = compile_job(project)
    assert yaml.safe_load(job_file.read_text())["inputs"] == {
        "greeting": "hello",
        "model": '{"rate": 0.5, "depth": 2}',
        "model__rate": 0.5,
    }

    before = replay(project, job_file).report
    project.kedro(
        "azureml", "replay", str(job_file),
        "--input", "model__rate=0.9",
        "--input", f"greeting={AWKWARD}",
        "--input", 'model={"rate": 0.1, "depth": 7}',
        check=True,
    )  # fmt: skip
    runs = sorted((project.path / ".azureml-local" / "runs").iterdir())
    after = next(run for run in runs if run != before.run_dir)

    assert seen_by_the_node(before.run_dir) == {
        "rate": 0.5,
        "options": {"rate": 0.5, "depth": 2},
        "greeting": "hello",
    }
    assert seen_by_the_node(after) == {
        "rate": 0.9,
        "options": {"rate": 0.1, "depth": 7},
        "greeting": AWKWARD,
    }
    recorded = yaml.safe_load((after / "job.yml").read_text())["inputs"]
    assert recorded["model__rate"] == 0.9 and recorded["greeting"] == AWKWARD


@pytest.mark.slow
def test_run_local_params_set_the_inputs_the_replay_runs_with(make_project):
    project = parameter_project(make_project)
    compile_job(project)  # writes azureml.yml

    project.kedro("azureml", "run", "--local", "--params", "model.rate=0.25", check=True)

    (run,) = (project.path / ".azureml-local" / "runs").iterdir()
    seen = seen_by_the_node(run)
    assert seen["rate"] == 0.25 and seen["options"] == {"rate": 0.25, "depth": 2}


def write_job(tmp_path: Path, inputs: dict) -> Path:
    job = {
        "type": "pipeline",
        "inputs": inputs,
        "jobs": {
            "a": {
                "type": "command",
                "command": "kedro azureml execute --node a --param-input params:lr number "
                "${{inputs.lr}}",
                "inputs": {"lr": "${{parent.inputs.lr}}"},
            }
        },
    }
    path = tmp_path / "job.yml"
    path.write_text(yaml.safe_dump(job))
    return path


def test_an_input_the_job_lacks_or_a_value_of_another_type_is_one_clear_error(tmp_path):
    job = read_compiled_file(write_job(tmp_path, {"lr": 0.1, "m": '{"a": 1}'}))

    with pytest.raises(ReplayError, match=r"--input: job '.*' has no input 'rate'; its inputs are the parameters its nodes read: lr, m\."):  # fmt: skip
        with_inputs(job, {"rate": 0.2}, where="--input")
    with pytest.raises(ReplayError, match=r"--input lr: 'fast' is not a number"):
        with_inputs(job, {"lr": "fast"}, where="--input")
    with pytest.raises(ReplayError, match=r"--input m: 3 is not a mapping or a list"):
        with_inputs(job, {"m": 3}, where="--input")
    assert with_inputs(job, {"lr": 2, "m": [1]}, where="--input").inputs == {"lr": 2, "m": "[1]"}


def test_a_step_bound_to_an_input_the_job_lacks_is_refused(tmp_path):
    with pytest.raises(ReplayError, match=r"jobs.a.inputs.lr reads input 'lr' of the job"):
        read_compiled_file(write_job(tmp_path, {"other": 1}))


@pytest.mark.slow
def test_runtime_params_in_the_configuration_resolve_at_compile_and_inputs_win_in_steps(
    make_project,
):
    project = make_project(
        nodes=[
            NodeSpec("first", "identity", ["params:model.rate"], ["rate"]),
            NodeSpec("second", "describe", ["rate", "params:model", "params:greeting"], ["out"]),
        ],
        catalog={
            "rate": pipeline_dataset("rate.pkl"),
            "out": pipeline_dataset("${runtime_params:out_name, out}.json", "json.JSONDataset"),
        },
        parameters={"model": {"rate": "${runtime_params:rate, 0.5}"}, "greeting": "hi"},
        extra_functions=DESCRIBE,
    )
    job_file = compile_job(project, "--params", "rate=0.8,out_name=result")
    job = yaml.safe_load(job_file.read_text())

    assert job["inputs"]["model__rate"] == 0.8 and job["inputs"]["model"] == '{"rate": 0.8}'
    for step in job["jobs"].values():  # no node reads them as parameters: every step gets them
        assert """--params '{"out_name": "result", "rate": 0.8}'""" in step["command"]

    first = replay(project, job_file).report
    second = replay(project, job_file, inputs={"model__rate": 0.3}).report

    def seen(run: Path) -> dict:
        return json.loads((run / "second" / "outputs" / "out" / "result.json").read_text())

    assert seen(first.run_dir) == {"rate": 0.8, "options": {"rate": 0.8}, "greeting": "hi"}
    assert seen(second.run_dir) == {"rate": 0.3, "options": {"rate": 0.8}, "greeting": "hi"}
