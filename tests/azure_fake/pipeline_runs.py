"""A pipeline job part way through, for ``FakeAzureML.add_pipeline_run``: three steps of four
Kedro nodes, one completed, one failed (with a Kedro error in its log), one not started."""

from __future__ import annotations

from azure_fake.azure_ml_api import FakeStepRun

JOB = "olive_kettle_7x2k"


def execute_command(*nodes: str) -> str:
    node_args = " ".join(f"--node {node}" for node in nodes)
    return f"kedro azureml execute --pipeline __default__ {node_args} --az-output model=${{{{outputs.model}}}}"


def seeded_steps() -> list[FakeStepRun]:
    """Fresh steps (a test may change them to move the job on)."""
    return [
        FakeStepRun(
            "preprocess",
            execute_command("preprocess"),
            status="Completed",
            started="2026-12-02T04:00:00Z",
            ended="2026-12-02T04:01:05Z",
            log="preprocessing\nINFO Completed 1 out of 1 tasks\n",
        ),
        FakeStepRun(
            "features_and_train",
            execute_command("features", "train"),
            display_name="features+train",
            status="Failed",
            compute="gpu-cluster",
            started="2026-12-02T04:01:10Z",
            ended="2026-12-02T04:01:40Z",
            log=(
                'Traceback (most recent call last):\n  File "nodes.py", line 3\n'
                "KeyError: 'price'\nError: node train failed: KeyError: 'price'\n"
            ),
            error="Execution failed. User process 'kedro' exited with status code 1.",
        ),
        FakeStepRun("evaluate", execute_command("evaluate")),
    ]
