"""This package's ``kedro.init`` plugin: Kedro's CLI calls :func:`start_replay_starter` as it
starts, before it opens the project and loads the plugins' commands, for every ``kedro`` command.

For ``kedro azureml run --local`` with warm step starts (no ``--cold``, no ``--help``), it starts
the replay's warm starter then, so that its warm-up overlaps Kedro's own start-up as well as the
compile (see ``replay.starter_at_kedro_start``; the run command uses it when it fits, and starts
its own otherwise). The command line is read by the run command's own click parser, in click's
resilient mode (no errors, no prompts; what it cannot read counts as not given). For any other
command it returns at once, and importing this module imports the standard library only (and the
package's ``__init__``, which reads no metadata): it must never slow down, nor break, a command of
Kedro or of another plugin, so it never raises either. The step starter imports it with Kedro's
other ``kedro.init`` plugins, so a warm step does not pay for it.
"""

from __future__ import annotations

import contextlib
import sys

#: The words of the command line that make a replay (``kedro azureml run``).
RUN = ("azureml", "run")
#: Kedro's help options (its ``CONTEXT_SETTINGS``).
HELP = ("-h", "--help")


def start_replay_starter() -> None:
    """Start the warm starter of ``kedro azureml run --local``, when that is the command."""
    args = sys.argv[1:]
    if tuple(args[: len(RUN)]) != RUN or any(arg in HELP for arg in args):
        return
    with contextlib.suppress(Exception):  # the run command then starts its own starter
        _start(args[len(RUN) :])


def _start(args: list[str]) -> None:
    from pathlib import Path

    from kedro.utils import find_kedro_project

    from kedro_azureml_deploy.cli.run import run

    with run.make_context("run", list(args), resilient_parsing=True) as ctx:
        given = dict(ctx.params)
    if not given.get("local") or given.get("cold"):
        return
    project_path = find_kedro_project(Path.cwd())
    if project_path is None:
        return
    project_path = project_path.resolve()  # as Kedro's project metadata has it
    from kedro_azureml_deploy.replay import starter_at_kedro_start

    starter_at_kedro_start.start(project_path, given.get("python"))
