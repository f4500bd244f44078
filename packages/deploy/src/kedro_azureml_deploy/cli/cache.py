"""``kedro azureml cache``: the reuse cache of local replays, shown or cleared."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from kedro_azureml_deploy.cli.command import command


@command()
@click.option("--clear", is_flag=True, help="Remove every entry of the cache.")
@click.option(
    "--step-envs",
    is_flag=True,
    help="The step environments the replay builds (in the user cache, shared by projects) "
    "instead of the reuse cache.",
)
@click.pass_obj
def cache(metadata: Any, clear: bool, step_envs: bool) -> None:
    """Show (or clear) the reuse cache: the outputs of local replay steps kept for jobs with
    `step_reuse: true`, in .azureml-local/cache/.

    Its size limit is 2 GiB, or KEDRO_AZUREML_CACHE_SIZE (bytes, or 500MB, 2GiB, ...); past it,
    the entries used least recently are removed first.

    With --step-envs: the Python environments built like the step image that replays run their
    steps in, one per lock file, Python and runtime, in ~/.cache/kedro-azureml/step-envs (or
    KEDRO_AZUREML_STEP_ENVS); a replay rebuilds the one it needs.
    """
    from kedro_azureml_deploy.cli.jobs import display_path

    if step_envs:
        _step_environments(clear)
        return
    from kedro_azureml_deploy.replay.step_cache import describe_size, project_cache

    store = project_cache(metadata.project_path)
    where = display_path(store.folder)
    if clear:
        removed = store.clear()
        click.echo(f"Reuse cache {where}: removed {removed} entries.")
        return
    entries = store.entries()
    click.echo(
        f"Reuse cache {where}: {len(entries)} entries, {describe_size(store.size())} of "
        f"{describe_size(store.limit)}."
    )
    width = max((len(entry.step) for entry in entries), default=4)
    for entry in reversed(entries):
        used = datetime.fromtimestamp(entry.used).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(
            f"  {entry.step:<{width}}  {describe_size(entry.size):>10}  run {entry.run_id}  "
            f"used {used}  {entry.key[:12]}"
        )


def _step_environments(clear: bool) -> None:
    from kedro_azureml_deploy.replay.step_cache import describe_size
    from kedro_azureml_deploy.replay.step_environment import (
        cache_folder,
        cached_environments,
        clear_environments,
    )

    where = cache_folder()
    if clear:
        click.echo(f"Step environments {where}: removed {clear_environments()}.")
        return
    environments = cached_environments()
    total = describe_size(sum(environment.size for environment in environments))
    click.echo(f"Step environments {where}: {len(environments)}, {total}.")
    width = max((len(environment.key) for environment in environments), default=0)
    for environment in environments:
        size = describe_size(environment.size)
        click.echo(f"  {environment.key:<{width}}  {environment.mode:<16}  {size:>10}")
