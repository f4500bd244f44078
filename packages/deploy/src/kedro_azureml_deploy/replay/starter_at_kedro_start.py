"""The warm starter of ``kedro azureml run --local``, started as Kedro's CLI starts.

The starter's warm-up (importing Kedro, the runtime and the plugins in the step environment,
about 0.5 s) is on the replay's critical path: the first step waits for it. Started by the run
command, it starts after Kedro has set up the project (its settings, about 0.15 s) and loaded
every plugin's commands; started by the ``kedro.init`` plugin of this package
(``kedro_azureml_deploy.cli.kedro_init``), it starts as soon as Kedro's CLI is imported, and its
warm-up overlaps all of that too.

:func:`start` starts it, in a temporary folder like every early starter (``warm_starts``), when
the steps' environment is built already; :func:`take` hands it to the run command, which uses it
only when it was started for the same project, the same ``--python`` and the same environment
the run command would start one with (a project's ``settings.py`` may change ``os.environ``):
otherwise it is ended and the run command starts its own, as it did before. One that nobody
takes (the command line failed to parse, or the command ended before its replay) is ended at
exit, and its temporary folder removed.
"""

from __future__ import annotations

import atexit
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.local_folder import LOCAL_FOLDER
from kedro_azureml_deploy.replay.step_variables import steps_environment
from kedro_azureml_deploy.replay.warm_starts import LOG_NAME, early_starter

if TYPE_CHECKING:
    from kedro_azureml_deploy.replay.warm_starts import StepStarter

#: The line :func:`start` writes into its starter's log (kept in ``.azureml-local/``).
STARTED_WITH_KEDRO = (
    "Started as Kedro's CLI started (the kedro.init plugin of kedro-azureml-deploy)."
)
#: The starter :func:`start` started, with the project and ``--python`` it was started for.
_STARTED: tuple[Path, Path | None, StepStarter] | None = None


def kept_log(project_path: Path) -> Path:
    """Where ``run --local`` keeps the starter's log: ``.azureml-local/step-starter.log``."""
    return project_path / LOCAL_FOLDER / LOG_NAME


def steps_bin_folder(project_path: Path, python: Path | None) -> Path | None:
    """The bin folder of the environment the steps run in, when it needs no build: ``--python``'s,
    or the built step environment of the project's lock; ``None`` otherwise (the replay builds
    it, or says why it cannot, after the job's checks)."""
    from kedro_azureml_deploy.replay.step_environment import built_bin_folder
    from kedro_azureml_deploy.replay.step_variables import python_bin_folder

    try:
        return python_bin_folder(python) if python is not None else built_bin_folder(project_path)
    except ReplayError:
        return None


def start(project_path: Path, python: Path | None) -> None:
    """Start the steps' starter for ``project_path`` now, for :func:`take`, when the steps'
    environment is built; a starter that fails at once is dropped (the run command's own says
    why). Never raises."""
    global _STARTED
    if _STARTED is not None:
        return
    bin_folder = steps_bin_folder(project_path, python)
    if bin_folder is None:
        return
    starter = early_starter(bin_folder, project_path, kept_log=kept_log(project_path))
    if starter.failure is not None:
        starter.remove_temporary_folder()
        return
    with contextlib.suppress(OSError), starter.log_path.open("a", encoding="utf-8") as log:
        log.write(f"{STARTED_WITH_KEDRO}\n")  # appended, as the starter writes its own lines
    _STARTED = (project_path, python, starter)
    atexit.register(_end_untaken)


def take(project_path: Path, python: Path | None) -> StepStarter | None:
    """The starter :func:`start` started, when it was for ``project_path`` and ``python`` and
    with the environment a starter started now would have; ``None`` otherwise (one that does
    not fit is ended)."""
    global _STARTED
    if _STARTED is None:
        return None
    (started_for, started_with, starter), _STARTED = _STARTED, None
    bin_folder = steps_bin_folder(project_path, python)
    if (
        (started_for, started_with) == (project_path, python)
        and bin_folder == starter.bin_folder
        and starter.failure is None
        and starter.environment == steps_environment(bin_folder, project_path)
    ):
        return starter
    _end(starter)
    return None


def _end(starter: StepStarter) -> None:
    starter.close()
    starter.remove_temporary_folder()


def _end_untaken() -> None:
    global _STARTED
    if _STARTED is not None:
        starter, _STARTED = _STARTED[2], None
        _end(starter)
