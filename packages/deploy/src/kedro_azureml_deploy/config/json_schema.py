"""The JSON Schema of ``azureml.yml``, for editors that validate and complete YAML."""

from __future__ import annotations

from typing import Any

from kedro_azureml_deploy.config.azureml_config import AzureMLConfig

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``azureml.yml``, the same for the same models.

    It describes every key with the descriptions of the models, and checks what a schema can:
    types, allowed values, required keys and ranges. The references between sections, time zone
    names and cron expressions are checked when the file is loaded (``kedro azureml compile``).
    """
    schema = _single_line_descriptions(AzureMLConfig.model_json_schema(mode="validation"))
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "azureml.yml of kedro-azureml"}


def _single_line_descriptions(node: Any) -> Any:
    """``node`` with each description on one line: docstrings wrap, editors' tooltips should not."""
    if isinstance(node, dict):
        return {
            key: " ".join(value.split())
            if key == "description" and isinstance(value, str)
            else _single_line_descriptions(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_single_line_descriptions(item) for item in node]
    return node
