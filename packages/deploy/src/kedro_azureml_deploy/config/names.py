"""The names ``azureml.yml`` gives, checked against the rules of Azure ML (and of a POSIX shell).

Plain regular expressions, no pydantic: the command line checks ``--env-var`` with the same rule
as the file, and ``kedro azureml --help`` must stay cheap to load. Each check returns the name,
or raises ``ValueError`` saying what is wrong and what a valid name looks like.
"""

from __future__ import annotations

import re

# Job and schedule names become Azure ML names (experiments, display names, schedules) and file
# names (`azureml-<job>.yml`, `.azureml-local/compiled/<job>.yml`). azure-ai-ml checks the names
# of pipeline inputs and outputs with `^[A-Za-z0-9_-]*$`, at most 255 characters
# (azure/ai/ml/entities/_inputs_outputs/output.py); experiments also start with a letter or digit.
# `[A-Za-z0-9]`, not `\w`: Python's `\w` and `\d` match any Unicode letter or digit.
_AZURE_ML_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,254}")
#: The rule of job and schedule names, for the JSON Schema.
AZURE_ML_NAME_PATTERN = f"^{_AZURE_ML_NAME.pattern}$"

# Compute names, from "Create an Azure Machine Learning compute cluster" (MicrosoftDocs/
# azure-ai-docs, articles/machine-learning/how-to-create-attach-compute-cluster.md): 3 to 24
# characters, letters, digits and `-`, starting with a letter, and a `-` must be followed by at
# least one letter later in the name. Attached Kubernetes computes take 2 to 16 characters
# (how-to-create-attach-compute-studio.md, "Inference clusters"), so a name of an existing compute
# may be as short as 2: the lengths accepted here are 2 to 24.
_COMPUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,23}")
#: The characters and lengths of compute names, for the JSON Schema (it cannot say "a letter
#: after each `-`" readably).
COMPUTE_NAME_PATTERN = f"^{_COMPUTE_NAME.pattern}$"
_ENDS_WITH_DIGITS_AFTER_DASH = re.compile(r"-[0-9]*\Z")

# A POSIX shell variable name: what a step's environment can carry to every process.
_ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def job_name(value: str) -> str:
    """``value``, a key of ``jobs``, if Azure ML and a file system can both take it."""
    return _azure_ml_name(value, "a job name")


def schedule_name(value: str) -> str:
    """``value``, a key of ``schedules``, if Azure ML can take it."""
    return _azure_ml_name(value, "a schedule name")


def experiment_name(value: str) -> str:
    """``value``, an Azure ML experiment name, if Azure ML can take it."""
    return _azure_ml_name(value, "an experiment name")


def compute_name(value: str) -> str:
    """``value``, the name of a compute of the workspace, if Azure ML can take it."""
    if not _COMPUTE_NAME.fullmatch(value) or _ENDS_WITH_DIGITS_AFTER_DASH.search(value):
        raise ValueError(
            f"`{value}` is not an Azure ML compute name: use 2 to 24 letters, digits and `-`, "
            "starting with a letter, with a letter somewhere after each `-` (e.g. `cpu-cluster`)"
        )
    return value


def env_var_name(value: str) -> str:
    """``value``, the name of an environment variable, if a shell can take it."""
    if not _ENV_VAR_NAME.fullmatch(value):
        raise ValueError(
            f"`{value}` is not an environment variable name: use letters, digits and `_`, not "
            "starting with a digit"
        )
    return value


def _azure_ml_name(value: str, kind: str) -> str:
    if not _AZURE_ML_NAME.fullmatch(value):
        raise ValueError(
            f"`{value}` is not {kind}: use letters, digits, `_` and `-` (starting with a letter "
            "or digit), at most 255 characters"
        )
    return value
