"""``kedro-azureml fleet``: the console script that keeps many projects on the template's latest
release, from a folder of clones or from CI, outside any Kedro project.

Imported by the ``kedro-azureml`` console script: click and the standard library only at module
level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kedro_azureml_deploy.cli.command import DeployCommand, DeployGroup

if TYPE_CHECKING:
    from kedro_azureml_deploy.fleet.repositories import Repository

REPOS_OPTION = click.option(
    "--repos",
    "repos_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A file of repositories, one path or git URL a line (# starts a comment); relative "
    "paths are relative to the file.",
)
REPOSITORIES = click.argument("repositories", nargs=-1)


@click.group(cls=DeployGroup)
def main() -> None:
    """kedro-azureml commands that work outside any Kedro project."""


@main.group(cls=DeployGroup)
def fleet() -> None:
    """Keep many projects made from the kedro-azureml template on its latest release."""


def _repositories(specs: tuple[str, ...], repos_file: Path | None) -> list[Repository]:
    from kedro_azureml_deploy.fleet.repositories import read_repository_list, repositories

    listed = read_repository_list(repos_file) if repos_file is not None else []
    return repositories([*specs, *listed])


@fleet.command("status", cls=DeployCommand)
@REPOSITORIES
@REPOS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(repositories: tuple[str, ...], repos_file: Path | None, as_json: bool) -> None:
    """Show the template release each repository records, the latest release, and what would
    block its update (not a git repository, uncommitted changes, no .copier-answers.yml, a
    relative or non-git _src_path, no _commit).

    REPOSITORIES are paths of local clones or git URLs. Exits 1 when any repository is blocked.
    """
    from kedro_azureml_deploy.fleet.report import status_table
    from kedro_azureml_deploy.fleet.status import repository_status

    statuses = [repository_status(repo) for repo in _repositories(repositories, repos_file)]
    if as_json:
        click.echo(json.dumps([s.to_json() for s in statuses], indent=2))
    else:
        click.echo(status_table(statuses))
    if any(s.state == "blocked" for s in statuses):
        raise SystemExit(1)


@fleet.command("update", cls=DeployCommand)
@REPOSITORIES
@REPOS_OPTION
@click.option(
    "--to",
    "to",
    metavar="REF",
    help="The template release (a tag) to update to. Default: each template's latest release.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Do everything but the commit and the push: the "
    "report, the diffs, the checks; no branch is left behind.",
)
@click.option(
    "--branch",
    metavar="NAME",
    help="The branch of the update commit. Default: kedro-azureml/update-<release>.",
)
@click.option(
    "--jobs",
    metavar="N",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Repositories updated at the same time, each in its own process.",
)
@click.option(
    "--no-checks",
    "no_checks",
    is_flag=True,
    help="Skip uv sync, the project's tests, "
    "kedro azureml compile and kedro azureml doctor in the updated copy.",
)
@click.option(
    "--trust",
    is_flag=True,
    help="Let the template run its migrations, as "
    "`copier update --trust` does; needed for a release that has any.",
)
@click.option(
    "--report",
    "report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("fleet-report/report.json"),
    show_default=True,
    help="The JSON report; each repository's diff (<name>.diff) and pull-request body "
    "(<name>.pr.md) are written beside it.",
)
@click.option(
    "--push",
    metavar="REMOTE",
    help="Push each update branch to this remote of the "
    "repository (for a git URL: origin, or another URL).",
)
def update(
    repositories: tuple[str, ...],
    repos_file: Path | None,
    to: str | None,
    dry_run: bool,
    branch: str | None,
    jobs: int,
    no_checks: bool,
    trust: bool,
    report: Path,
    push: str | None,
) -> None:
    """Update each repository to a template release, in a scratch clone: never in your working
    tree, never on its default branch.

    For each repository: copier update (--skip-answered --defaults, inline conflict markers),
    the files changed, added and deleted, the conflicts, the checks, then a commit on the update
    branch of the local repository (created, or replaced when it holds only earlier updates) and,
    with --push, on its remote.

    Exits 0 only when every repository is updated (or would be, with --dry-run) or already
    current.
    """
    from kedro_azureml_deploy.errors import FleetError
    from kedro_azureml_deploy.fleet.parallel import update_fleet
    from kedro_azureml_deploy.fleet.report import update_table, write_report
    from kedro_azureml_deploy.fleet.update import SUCCESS, UpdateOptions

    if dry_run and push:
        raise FleetError("--dry-run pushes nothing: pass either --dry-run or --push.")
    options = UpdateOptions(
        to=to, branch=branch, dry_run=dry_run, checks=not no_checks, trust=trust, push=push
    )
    results = update_fleet(_repositories(repositories, repos_file), options, jobs=jobs)
    write_report(report, results)
    click.echo(update_table(results))
    click.echo(f"Report: {report}")
    if any(result.status not in SUCCESS for result in results):
        raise SystemExit(1)
