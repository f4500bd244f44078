"""``kedro azureml cache``: the reuse cache of local replays, shown or cleared."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from kedro_azureml_deploy.cli.command import command


@command()
@click.option("--clear", is_flag=True, help="Remove every entry of the cache.")
@click.pass_obj
def cache(metadata: Any, clear: bool) -> None:
    """Show (or clear) the reuse cache: the outputs of local replay steps kept for jobs with
    `step_reuse: true`, in .azureml-local/cache/.

    Its size limit is 2 GiB, or KEDRO_AZUREML_CACHE_SIZE (bytes, or 500MB, 2GiB, ...); past it,
    the entries used least recently are removed first.
    """
    from kedro_azureml_deploy.cli.jobs import display_path
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
