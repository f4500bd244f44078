"""``kedro azureml info``: the versions in use, for bug reports."""

from __future__ import annotations

import click

from kedro_azureml_deploy.cli.command import command


@command()
def info() -> None:
    """Show the versions of kedro-azureml, Kedro and the Azure SDK in use, for bug reports."""
    from kedro_azureml_deploy.errors import KedroAzureMLError
    from kedro_azureml_deploy.versions import installed_versions, version_problems

    versions = installed_versions()
    width = max(map(len, versions))
    for name, value in versions.items():
        click.echo(f"{name:<{width}}  {value or 'not installed'}")
    problems = version_problems(versions)
    if problems:
        raise KedroAzureMLError("\n".join(problems))
