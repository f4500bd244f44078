"""The template's copy of the azureml.yml JSON Schema is the deploy package's current one.

After a change to the config models, regenerate the copy with
``KEDRO_AZUREML_UPDATE_SCHEMA=1 uv run pytest tests/template/test_schema.py`` and review the diff
like code (it is what the editors of every new or updated project check azureml.yml with).
"""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
import yaml
from template_testing import REPO_ROOT, SCENARIOS

from kedro_azureml_deploy.config import config_json_schema

SCHEMA_COPY = REPO_ROOT / "templates" / "kedro-azureml-project" / "project" / "azureml.schema.json"


def current_schema_text() -> str:
    """What `kedro azureml schema -o azureml.schema.json` writes."""
    return json.dumps(config_json_schema(), indent=2, sort_keys=True) + "\n"


def test_template_schema_is_the_current_schema_of_azureml_yml():
    current = current_schema_text()
    if os.environ.get("KEDRO_AZUREML_UPDATE_SCHEMA"):
        SCHEMA_COPY.write_text(current)

    assert SCHEMA_COPY.read_text() == current, (
        "templates/kedro-azureml-project/project/azureml.schema.json is out of date: regenerate "
        "it with KEDRO_AZUREML_UPDATE_SCHEMA=1 uv run pytest tests/template/test_schema.py"
    )


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_rendered_azureml_yml_satisfies_the_rendered_schema(render_scenario, scenario):
    project = render_scenario(scenario)
    schema = json.loads(project.read("azureml.schema.json"))
    config = yaml.safe_load(project.read("conf/base/azureml.yml"))

    jsonschema.validate(config, schema, cls=jsonschema.Draft202012Validator)
