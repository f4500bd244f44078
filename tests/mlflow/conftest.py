"""Fixtures of the MLflow tests (see mlflow_testing.py): ``mlflow_server``, a real tracking server
for the session, ``step_venv``, a step image's environment, and ``make_mlflow_project``.

No ``__init__.py`` here on purpose: a package named ``mlflow`` on ``sys.path`` would shadow the
real one.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The tests import their helpers from mlflow_testing.py, next to this file.
sys.path.insert(0, str(Path(__file__).parent))

from mlflow_testing import make_mlflow_project, mlflow_server, step_venv

__all__ = ["make_mlflow_project", "mlflow_server", "step_venv"]
