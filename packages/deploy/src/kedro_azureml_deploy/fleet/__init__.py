"""``kedro-azureml fleet``: the template releases of many projects, and updating them all.

Each repository is updated in a scratch clone, never in the user's working tree; the outcome is
a report (a table, JSON, a diff and a pull-request body per repository).
"""
