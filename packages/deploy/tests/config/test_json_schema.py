"""The JSON Schema of azureml.yml, and ``kedro azureml schema`` that writes it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from kedro_azureml_deploy.cli.schema import schema
from kedro_azureml_deploy.config import config_json_schema


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    json_schema = config_json_schema()
    Draft202012Validator.check_schema(json_schema)
    return Draft202012Validator(json_schema)


def test_schema_is_draft_2020_12_with_a_title():
    json_schema = config_json_schema()

    assert json_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert json_schema["title"] == "azureml.yml of kedro-azureml"


def test_every_key_of_every_section_is_described():
    json_schema = config_json_schema()

    for model in [json_schema, *json_schema["$defs"].values()]:
        assert model["description"]
        for key, node in model["properties"].items():
            assert node.get("description"), f"{model['title']}.{key}"
            assert "\n" not in node["description"]


def test_schema_is_the_same_on_every_call():
    assert json.dumps(config_json_schema()) == json.dumps(config_json_schema())


def test_full_example_is_valid_against_the_schema(validator, full_example, minimal):
    assert list(validator.iter_errors(full_example)) == []
    assert list(validator.iter_errors(minimal)) == []


@pytest.mark.parametrize(
    "change",
    [
        {"wrkspace": {}},
        {"workspace": {"main": {"subscription_id": "x", "resource_group": "r", "name": "n"}}},
        {"jobs": {"train": {"retries": 11}}},
        {"execution": {"mode": "image"}},
        {"environment": {"__default__": {"name": "a@latest", "image": "b"}}},
    ],
    ids=["unknown-section", "no-default", "retries", "image-without-directory", "name-and-image"],
)
def test_schema_rejects_what_the_models_reject(validator, minimal, change):
    assert list(validator.iter_errors({**minimal, **change}))


def test_schema_command_prints_the_schema_with_sorted_keys():
    result = CliRunner().invoke(schema, [])

    assert result.exit_code == 0, result.output
    assert result.output == json.dumps(config_json_schema(), indent=2, sort_keys=True) + "\n"


def test_schema_command_writes_a_file(tmp_path):
    target = tmp_path / "azureml.schema.json"

    result = CliRunner().invoke(schema, ["-o", str(target)])

    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text()) == config_json_schema()


def test_loading_the_schema_command_imports_no_model():
    code = (
        "import sys, kedro_azureml_deploy.cli.schema\n"
        "print(sorted(m for m in ('pydantic', 'tzlocal', 'kedro_azureml_deploy.config.loader') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
