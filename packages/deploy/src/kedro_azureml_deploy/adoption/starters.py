"""The ``azureml`` Kedro starter: ``kedro new --starter azureml`` renders the copier template.

The starter is a cookiecutter shim shipped with this package (the ``starter/`` folder next to
this module): its post-generation hook renders the kedro-azureml copier template at the release
of the installed kedro-azureml-deploy, from the source ``kedro azureml init`` uses. Kedro finds
``STARTERS`` through the ``kedro.starters`` entry point.
"""

from __future__ import annotations

from pathlib import Path

from kedro.framework.cli.starters import KedroStarterSpec

#: The cookiecutter shim: ``cookiecutter.json``, ``prompts.yml`` and the hook that hands over to
#: copier. A local folder, so Kedro does not check it out at its own version as it does a URL.
STARTER_DIR = Path(__file__).parent / "starter"

STARTERS = [KedroStarterSpec(alias="azureml", template_path=str(STARTER_DIR))]
