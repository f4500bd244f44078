"""``kedro azureml schema``: write the JSON Schema of ``azureml.yml`` for editors.

Imported whenever a user lists or calls an ``azureml`` command: click and the standard library
only at module level.
"""

from __future__ import annotations

import json
from typing import TextIO

import click

from kedro_azureml_deploy.cli.command import command


@command()
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    show_default="standard output",
    help="The file to write the schema to, e.g. azureml.schema.json.",
)
def schema(output: TextIO) -> None:
    """Write the JSON Schema of azureml.yml, for editors that validate and complete YAML.

    With the schema at the project's root, this first line of conf/base/azureml.yml points
    editors at it:

    \b
        # yaml-language-server: $schema=../../azureml.schema.json
    """
    from kedro_azureml_deploy.config.json_schema import config_json_schema

    output.write(json.dumps(config_json_schema(), indent=2, sort_keys=True) + "\n")
