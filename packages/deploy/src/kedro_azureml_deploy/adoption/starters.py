"""The ``azureml`` Kedro starter: ``kedro new --starter azureml`` renders the copier template.

The starter is a cookiecutter shim shipped with this package (the ``starter/`` folder next to
this module): its post-generation hook renders the kedro-azureml copier template at the release
of the installed kedro-azureml-deploy, from the source ``kedro azureml init`` uses. Kedro finds
``STARTERS`` through the ``kedro.starters`` entry point.

When the hook refuses an answer it prints one ``Error:`` line and exits with
``REPORTED_EXIT_STATUS``; cookiecutter would then log that failure with a full traceback, so
importing this module (which Kedro does when ``kedro new`` looks up its starters) drops that one
record from cookiecutter's log. Any other failure of the hook is logged as cookiecutter logs it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kedro.framework.cli.starters import KedroStarterSpec

#: The cookiecutter shim: ``cookiecutter.json``, ``prompts.yml`` and the hook that hands over to
#: copier. A local folder, so Kedro does not check it out at its own version as it does a URL.
STARTER_DIR = Path(__file__).parent / "starter"

STARTERS = [KedroStarterSpec(alias="azureml", template_path=str(STARTER_DIR))]

#: The exit status of the hook after it has printed its one-line error (its ``main`` returns it).
REPORTED_EXIT_STATUS = 3


class _ReportedHookFailure(logging.Filter):
    """Drops cookiecutter's traceback of a hook failure the hook has already reported."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        reported = type(error).__name__ == "FailedHookException" and str(error).endswith(
            f"(exit status: {REPORTED_EXIT_STATUS})"
        )
        return not reported


for _name in ("cookiecutter.hooks", "cookiecutter.generate"):  # where its releases log it
    _log = logging.getLogger(_name)
    if not any(isinstance(known, _ReportedHookFailure) for known in _log.filters):
        _log.addFilter(_ReportedHookFailure())
