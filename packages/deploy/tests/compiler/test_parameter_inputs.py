"""Kedro parameters as typed pipeline inputs: names, types, and each step reading only its own."""

from __future__ import annotations

import io
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node

from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.compiler.parameter_inputs import (
    AZURE_INPUT_NAME,
    dataset_of,
    input_name,
)
from kedro_azureml_deploy.errors import CompileError, ConfigError

from .conftest import identity

PARAMETERS: dict[str, Any] = {
    "seed": 42,
    "rate": 0.5,
    "flag": True,
    "greeting": 'it\'s "hello" é',
    "model_options": {"test_size": 0.2, "random_state": 3, "features": ["a", "b"]},
}


def parameter_catalog(parameters: dict[str, Any]) -> DataCatalog:
    """A catalog holding ``parameters`` as Kedro feeds them: ``parameters``, and ``params:<name>``
    for every name, nested ones included."""
    catalog = DataCatalog()
    catalog["parameters"] = parameters

    def add(prefix: str, values: dict[str, Any]) -> None:
        for key, value in values.items():
            catalog[f"params:{prefix}{key}"] = value
            if isinstance(value, dict):
                add(f"{prefix}{key}.", value)

    add("", parameters)
    return catalog


def pipeline() -> Pipeline:
    return Pipeline(
        [
            node(identity, ["params:seed", "params:flag"], "a", name="prepare"),
            node(
                identity, ["a", "params:model_options.test_size", "params:rate"], "b", name="split"
            ),
            node(identity, ["b", "params:model_options", "params:greeting"], "c", name="train"),
            node(identity, ["c", "parameters"], "d", name="report"),
        ]
    )


@pytest.mark.parametrize(
    ("dataset", "name"),
    [
        ("params:model_options.test_size", "model_options__test_size"),
        ("params:seed", "seed"),
        ("params:a1_b2.c3", "a1_b2__c3"),
        ("parameters", "parameters"),
        ("params:parameters", "_parameters"),
        ("params:a__b", "_a_5f_5fb"),
        ("params:a._b", "_a___5fb"),
        ("params:learningRate", "_learning_52ate"),
        ("params:my-param", "_my_2dparam"),
        ("params:2nd", "_2nd"),
        ("params:été", "__e9t_e9"),
        ("params:日本", "__u0065e5_u00672c"),
    ],
)
def test_input_names_follow_the_documented_mapping(dataset, name):
    assert input_name(dataset) == name
    assert dataset_of(name) == dataset


@given(st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_input_names_are_valid_for_azure_ml_and_decode_to_their_kedro_name(parts):
    dataset = "params:" + ".".join(parts)
    name = input_name(dataset)
    assert AZURE_INPUT_NAME.fullmatch(name)
    assert name == name.lower()  # Azure ML compares input names ignoring case
    assert dataset_of(name) == dataset


@given(st.sets(st.text(alphabet="aAb_.-1é", max_size=8), min_size=2, max_size=8))
def test_no_two_kedro_names_share_an_input_even_ignoring_case(names):
    datasets = ["parameters", *(f"params:{name}" for name in names)]
    inputs = [input_name(dataset).lower() for dataset in datasets]
    assert len(set(inputs)) == len(datasets)


def test_azure_ai_ml_accepts_the_input_names():
    from azure.ai.ml.entities import Component

    names = [input_name(f"params:{n}") for n in ("a.b", "a__b", "A", "a", "x y", "1", "日")]
    result = Component._validate_io_names(names)
    assert result.passed, result.error_messages


def test_each_parameter_a_node_reads_is_a_typed_pipeline_input(compile_pipeline, tmp_path):
    from azure.ai.ml import load_job

    compiled = compile_pipeline(pipeline(), parameter_catalog(PARAMETERS))
    spec = compiled.spec

    assert list(spec) == [*[k for k in spec if k not in ("inputs", "settings", "jobs")], "inputs",
                          "settings", "jobs"]  # fmt: skip
    assert spec["inputs"] == {
        "flag": True,
        "greeting": 'it\'s "hello" é',
        "model_options": '{"test_size": 0.2, "random_state": 3, "features": ["a", "b"]}',
        "model_options__test_size": 0.2,
        "parameters": yaml.safe_load(yaml.safe_dump(spec["inputs"]["parameters"])),
        "rate": 0.5,
        "seed": 42,
    }
    assert yaml.safe_load(compiled.to_yaml())["inputs"] == spec["inputs"]
    job = load_job(io.StringIO(compiled.to_yaml()), relative_origin=str(tmp_path / "job.yml"))
    assert job._validate().passed
    types = {
        name: port.type
        for step in job.jobs.values()
        for name, port in step.component.inputs.items()
        if name in spec["inputs"]
    }
    assert types == {
        "seed": "integer",
        "flag": "boolean",
        "rate": "number",
        "model_options__test_size": "number",
        "model_options": "string",
        "greeting": "string",
        "parameters": "string",
    }


def test_each_step_binds_and_passes_only_the_parameters_its_nodes_read(compile_pipeline):
    jobs = compile_pipeline(pipeline(), parameter_catalog(PARAMETERS)).spec["jobs"]

    bound = {
        step: {port for port, value in spec["inputs"].items() if "parent.inputs" in str(value)}
        for step, spec in jobs.items()
    }
    assert bound == {
        "prepare": {"seed", "flag"},
        "split": {"model_options__test_size", "rate"},
        "train": {"model_options", "greeting"},
        "report": {"parameters"},
    }
    assert jobs["split"]["inputs"]["rate"] == "${{parent.inputs.rate}}"
    command = jobs["split"]["command"]
    assert "--param-input params:model_options.test_size number ${{inputs.model_options__test_size}}" in command  # fmt: skip
    assert "--param-input params:rate number ${{inputs.rate}}" in command
    assert "--params" not in command
    assert (
        "'KEDRO_AZUREML_VALUE'\n${{inputs.greeting}}\nKEDRO_AZUREML_VALUE\n"
        in jobs["train"]["command"]
    )


def step_yaml(compiled) -> dict[str, str]:
    return {name: yaml.safe_dump(spec) for name, spec in compiled.spec["jobs"].items()}


def test_with_step_reuse_changing_a_parameter_changes_only_the_inputs_not_any_step(
    compile_pipeline,
):
    changed = {**PARAMETERS, "rate": 0.9}
    before = compile_pipeline(pipeline(), parameter_catalog(PARAMETERS), job={"step_reuse": True})
    after = compile_pipeline(pipeline(), parameter_catalog(changed), job={"step_reuse": True})

    assert before.spec["settings"]["force_rerun"] is False
    assert step_yaml(before) == step_yaml(after)  # every step's spec, byte for byte
    differing = {k for k in before.spec["inputs"] if before.spec["inputs"][k] != after.spec["inputs"][k]}  # fmt: skip
    assert differing == {"rate", "parameters"}
    readers = {
        s for s, spec in after.spec["jobs"].items() if set(spec.get("inputs", {})) & differing
    }
    assert readers == {"split", "report"}  # only they see another value: Azure ML reruns them only


def test_params_no_node_reads_stay_in_every_steps_command(compile_pipeline):
    options = CompileOptions(params={"rate": 0.7, "folder": "runs/1", "model_options": {"test_size": 0.1}})  # fmt: skip
    catalog = parameter_catalog({**PARAMETERS, "rate": 0.7})
    two_steps = Pipeline([n for n in pipeline().nodes if n.name in ("prepare", "split")])
    jobs = compile_pipeline(two_steps, catalog, options=options).spec["jobs"]

    for spec in jobs.values():
        assert """--params '{"folder": "runs/1"}'""" in spec["command"]


def test_a_parameter_the_configuration_lacks_is_a_compile_error(compile_pipeline):
    broken = Pipeline([node(identity, "params:missing", "a", name="n")])
    with pytest.raises(CompileError, match=r"node 'n' reads params:missing, which the project"):
        compile_pipeline(broken, parameter_catalog(PARAMETERS))


def test_inputs_set_at_trigger_time_are_checked_against_the_job(compile_pipeline):
    compiled = compile_pipeline(pipeline(), parameter_catalog(PARAMETERS))

    changed = compiled.with_inputs(
        {"rate": 1, "model_options": {"test_size": 0.3}, "greeting": "x"}, where="test"
    )

    assert changed.spec["inputs"]["rate"] == 1
    assert changed.spec["inputs"]["model_options"] == '{"test_size": 0.3}'
    assert changed.spec["jobs"] == compiled.spec["jobs"]
    with pytest.raises(ConfigError, match=r"has no input 'model_options\.test_size' \(the input of parameter params:model_options.test_size is 'model_options__test_size'\)"):  # fmt: skip
        compiled.with_inputs({"model_options.test_size": 0.3}, where="schedules.nightly.inputs")
    with pytest.raises(ConfigError, match=r"schedules.n.inputs.seed: 'x' is not an integer"):
        compiled.with_inputs({"seed": "x"}, where="schedules.n.inputs")
    with pytest.raises(ConfigError, match=r"True is not a number"):
        compiled.with_inputs({"rate": True}, where="w")


def test_a_text_value_that_cannot_reach_a_step_is_a_compile_error(compile_pipeline):
    catalog = parameter_catalog({**PARAMETERS, "greeting": "two\nlines\n"})
    with pytest.raises(CompileError, match=r"parameter params:greeting .* ends with a new line"):
        compile_pipeline(pipeline(), catalog)


def test_a_step_of_several_nodes_reads_the_union_of_their_parameters(compile_pipeline):
    chain = Pipeline([n for n in pipeline().nodes if n.name in ("prepare", "split")])

    compiled = compile_pipeline(chain, parameter_catalog(PARAMETERS), job={"grouping": "chains"})

    (step,) = compiled.spec["jobs"].values()
    assert set(step["inputs"]) == {"seed", "flag", "model_options__test_size", "rate"}
    assert step["command"].count("--param-input") == 4
