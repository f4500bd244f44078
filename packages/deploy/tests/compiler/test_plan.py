"""The plan of a compiled job (``compiler.plan``) and ``kedro azureml plan``."""

from __future__ import annotations

import json

import yaml
from kedro.pipeline import Pipeline, node

from kedro_azureml_deploy.compiler.plan import plan_of, plan_table
from project_factory import NodeSpec, azureml_yml
from project_factory import pipeline_dataset as project_pipeline_dataset

from .conftest import catalog_of, identity, pipeline_dataset


def fan_out_pipeline() -> Pipeline:
    """``split`` feeds ``left`` and ``right`` (``right`` on the gpu compute), ``merge`` joins."""
    return Pipeline(
        [
            node(identity, ["raw", "params:seed"], "split_out", name="split"),
            node(identity, "split_out", "left_out", name="left"),
            node(identity, "split_out", "right_out", name="right", tags=["gpu"]),
            node(identity, ["left_out", "right_out"], "report", name="merge"),
        ]
    )


def test_plan_lists_steps_edges_and_totals_as_compiled(compile_pipeline):
    catalog = catalog_of({"raw": pipeline_dataset("raw.pkl"), "report": pipeline_dataset("r.pkl")})
    compiled = compile_pipeline(fan_out_pipeline(), catalog)

    plan = plan_of(compiled).to_dict()

    assert plan == {
        "job": "train",
        "pipeline": "__default__",
        "grouping": "none",
        "steps": [
            {
                "name": "split",
                "nodes": ["split"],
                "compute": "cpu-cluster",
                "environment": "kedro-env@latest",
                "inputs": ["raw"],
                "outputs": ["split_out"],
                "upstream": [],
            },
            {
                "name": "left",
                "nodes": ["left"],
                "compute": "cpu-cluster",
                "environment": "kedro-env@latest",
                "inputs": ["split_out"],
                "outputs": ["left_out"],
                "upstream": ["split"],
            },
            {
                "name": "right",
                "nodes": ["right"],
                "compute": "gpu-cluster",
                "environment": "kedro-env@latest",
                "inputs": ["split_out"],
                "outputs": ["right_out"],
                "upstream": ["split"],
            },
            {
                "name": "merge",
                "nodes": ["merge"],
                "compute": "cpu-cluster",
                "environment": "kedro-env@latest",
                "inputs": ["left_out", "right_out"],
                "outputs": ["report"],
                "upstream": ["left", "right"],
            },
        ],
        "edges": [
            {"from": "split", "to": "left", "datasets": ["split_out"]},
            {"from": "split", "to": "right", "datasets": ["split_out"]},
            {"from": "left", "to": "merge", "datasets": ["left_out"]},
            {"from": "right", "to": "merge", "datasets": ["right_out"]},
        ],
        "totals": {"nodes": 4, "steps": 4, "critical_path_steps": 3, "crossing_datasets": 3},
    }
    assert [step["name"] for step in plan["steps"]] == list(compiled.spec["jobs"])


def test_plan_shows_an_inline_image_and_the_environment_entry_as_compiled(compile_pipeline):
    compiled = compile_pipeline(
        fan_out_pipeline(),
        catalog_of({"raw": pipeline_dataset("raw.pkl")}),
        sections={"environment": {"__default__": {"image": "registry.example/kedro:1"}}},
    )

    assert {step.environment for step in plan_of(compiled).steps} == {"registry.example/kedro:1"}


def test_plan_table_has_a_row_per_step_and_the_totals(compile_pipeline):
    compiled = compile_pipeline(
        fan_out_pipeline(), catalog_of({"raw": pipeline_dataset("raw.pkl")})
    )

    table = plan_table(plan_of(compiled))

    lines = table.splitlines()
    assert lines[0] == "Job 'train': pipeline '__default__', grouping 'none'"
    assert lines[2].split() == ["step", "nodes", "compute", "environment", "inputs", "outputs"]
    split = ["split", "split", "cpu-cluster", "kedro-env@latest", "raw", "split_out"]
    assert lines[4].split() == split
    right = ["right", "right", "gpu-cluster", "kedro-env@latest", "split_out", "right_out"]
    assert lines[6].split() == right
    assert lines[-1] == (
        "4 node(s) in 4 step(s) (container starts), 3 step(s) on the critical path, "
        "3 dataset(s) crossing steps."
    )


def test_plan_command_prints_the_plan_of_the_job_compile_writes(make_project):
    project = make_project(
        nodes=[
            NodeSpec("preprocess", "identity", ["params:seed"], ["preprocessed"]),
            NodeSpec("train", "add_one", ["preprocessed"], ["model"]),
            NodeSpec("evaluate", "join", ["model", "preprocessed"], ["metrics"]),
        ],
        catalog={"metrics": project_pipeline_dataset("metrics.pkl")},
        extra_files={"conf/base/azureml.yml": azureml_yml({"train": {}})},
    )

    shown = project.kedro("azureml", "plan", "-j", "train", "--format", "json", check=True)
    table = project.kedro("azureml", "plan", check=True)
    project.kedro("azureml", "compile", check=True)

    # Kedro itself may log a line about its logging configuration before the command runs.
    plan = json.loads(shown.stdout.splitlines()[-1])
    compiled = yaml.safe_load((project.path / ".azureml-local/compiled/train.yml").read_text())
    assert [step["name"] for step in plan["steps"]] == list(compiled["jobs"])
    assert plan["totals"] == {
        "nodes": 3,
        "steps": 3,
        "critical_path_steps": 3,
        "crossing_datasets": 2,
    }
    assert plan["edges"][-1] == {"from": "train", "to": "evaluate", "datasets": ["model"]}
    assert "3 node(s) in 3 step(s) (container starts)" in table.stdout


def test_plan_command_reports_a_missing_job_in_one_line(make_project):
    project = make_project(
        nodes=[NodeSpec("only", "identity", ["params:seed"], ["out"])],
        extra_files={"conf/base/azureml.yml": azureml_yml({"train": {}})},
    )

    result = project.kedro("azureml", "plan", "-j", "nope")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("Error:")]) == 1
