"""``kedro azureml doctor``: what would break, or be lost, once a job runs on Azure ML.

- ``findings``: one finding (severity, subject, problem, fix) and the diagnosis of a job;
- ``checks``: the checks, run on a compiled job, its pipeline, catalog and code snapshot.
"""
