"""The deploy package's user-facing errors.

The CLI prints each of them as one line on stderr (a message may hold several lines when it lists
several problems, one per line) and exits with a non-zero status; ``--verbose`` shows the traceback.
Messages say what is wrong, where, and what to do.
"""


class KedroAzureMLError(Exception):
    """Base class of the deploy package's user-facing errors."""


class ConfigError(KedroAzureMLError):
    """``azureml.yml`` is missing or invalid, or names a job it does not define."""


class CompileError(KedroAzureMLError):
    """A job cannot be compiled into an Azure ML pipeline job."""


class SubmitError(KedroAzureMLError):
    """Azure ML refused a submission or a schedule, or could not be reached."""


class ReplayError(KedroAzureMLError):
    """A compiled job cannot be replayed locally, or a replay run to resume does not exist."""


class AdoptionError(KedroAzureMLError):
    """``kedro azureml init`` cannot adopt the project: a copier template already manages it, or
    the template cannot be fetched or rendered with the answers given."""


class FleetError(KedroAzureMLError):
    """``kedro-azureml fleet`` cannot start: a repository list that cannot be read, or options that
    contradict each other. A repository that cannot be updated is a line of the report instead."""
