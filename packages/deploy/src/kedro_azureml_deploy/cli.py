"""Commands kedro-azureml-deploy adds to ``kedro azureml`` (entry points ``kedro_azureml.commands``).

Each command parses its options, calls one function that does the work and reports the result.
This module is imported whenever a user lists or calls an ``azureml`` command, so it imports
click and the standard library only.
"""

from __future__ import annotations

import click


@click.command()
def info() -> None:
    """Show the versions of kedro-azureml, Kedro and the Azure SDK in use, for bug reports."""
    from kedro_azureml_deploy.versions import installed_versions, version_problems

    versions = installed_versions()
    width = max(map(len, versions))
    for name, value in versions.items():
        click.echo(f"{name:<{width}}  {value or 'not installed'}")
    problems = version_problems(versions)
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    if problems:
        raise SystemExit(1)
