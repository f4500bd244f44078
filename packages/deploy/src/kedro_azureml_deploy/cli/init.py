"""``kedro azureml init``: adopt an existing Kedro project."""

from __future__ import annotations

import sys
from typing import Any

import click

from kedro_azureml_deploy.cli.command import command
from kedro_azureml_deploy.cli.options import with_options

INIT_OPTIONS = (
    click.option(
        "--subscription-id", help="Azure subscription id of the workspace (default: a placeholder)."
    ),
    click.option(
        "--resource-group", help="Resource group of the workspace (default: a placeholder)."
    ),
    click.option("--workspace", help="Name of the Azure ML workspace (default: a placeholder)."),
    click.option(
        "--cluster",
        "compute_cluster",
        help="Compute cluster the steps run on (default: cpu-cluster).",
    ),
    click.option(
        "--execution-mode",
        type=click.Choice(["code_upload", "docker_image"]),
        help="Upload the code with each job, or bake it into the Dockerfile's image. Default: "
        "docker_image when a previous azureml.yml names an image, else code_upload.",
    ),
    click.option(
        "--registry", "container_registry", help="Registry of the step image (docker_image)."
    ),
    click.option(
        "--image-name", help="Repository of the step image in the registry (docker_image)."
    ),
    click.option(
        "--template",
        envvar="KEDRO_AZUREML_TEMPLATE",
        show_envvar=True,
        help="The kedro-azureml template: a git URL or a local clone. Default: the released one.",
    ),
    click.option(
        "--template-ref",
        help="Template release (tag, branch or commit). Default: the tag of this "
        "kedro-azureml-deploy.",
    ),
    click.option(
        "--force", is_flag=True, help="Replace files the project already has without asking."
    ),
    click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing."),
)


@command()
@with_options(*INIT_OPTIONS)
@click.pass_obj
def init(
    metadata: Any,
    template: str | None,
    template_ref: str | None,
    force: bool,
    dry_run: bool,
    **azure: str | None,
) -> None:
    """Adopt this Kedro project: add conf/base/azureml.yml, .amlignore, Dockerfile and
    .dockerignore from the kedro-azureml template, recording the answers so that
    `copier update` keeps them up to date.

    A file the project already has is replaced only when you agree, or with --force, and kept
    as <file>.orig. Nothing else changes: `kedro run` works as before. The workspace, cluster
    and image of an azureml.yml written for kedro-azureml or kedro-azureml-pipeline fill in
    the options not given.
    """
    from kedro_azureml_deploy.adoption.answers import AzureAnswers
    from kedro_azureml_deploy.adoption.init_project import init_project
    from kedro_azureml_deploy.adoption.template import TEMPLATE_SOURCE, default_template_ref

    interactive = sys.stdin.isatty() and not dry_run

    def overwrite(relpath: str) -> bool:
        if not interactive:
            return False
        return click.confirm(f"{relpath} exists and differs from the template's. Replace it?")

    adoption = init_project(
        metadata.project_path,
        AzureAnswers(**azure),  # type: ignore[arg-type]
        template=template or TEMPLATE_SOURCE,
        ref=template_ref or default_template_ref(),
        overwrite=overwrite,
        force=force,
        dry_run=dry_run,
    )
    click.echo(adoption.report())
