"""A grouped job replays to the same outputs as the ungrouped job and as ``kedro run``."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from project_factory import NodeSpec, pipeline_dataset

from .conftest import compile_job, replay

#: Each strategy, and the steps it makes of ``grouped_project``'s 8 nodes.
STEP_COUNTS = {
    "none": 8,
    "chains": 5,
    "namespaces": 7,
    "tags": 7,
    "tags+chains": 5,
}


def grouped_project(make_project):
    """A chain (``load``, ``clean``), a fan-out from ``clean`` to the ``features`` namespace and
    to the ``step.right`` tagged chain, and two terminal outputs joining them."""
    return make_project(
        nodes=[
            NodeSpec("load", "identity", ["params:seed"], ["raw"]),
            NodeSpec("clean", "add_one", ["raw"], ["clean"]),
            NodeSpec("left_a", "add_one", ["clean"], ["left_a"], namespace="features"),
            NodeSpec("left_b", "add_one", ["left_a"], ["left_b"], namespace="features"),
            NodeSpec("right_a", "add_one", ["clean"], ["right_a"], tags=["step.right"]),
            NodeSpec("right_b", "add_one", ["right_a"], ["right_b"], tags=["step.right"]),
            NodeSpec("report", "join", ["left_b", "right_b"], ["report"]),
            NodeSpec("summary", "join", ["right_b", "clean"], ["summary"]),
        ],
        catalog={
            "left_a": pipeline_dataset("data/left_a.pkl"),  # inside a step with most groupings
            "report": pipeline_dataset("data/report.pkl"),
            "summary": pipeline_dataset("data/summary.pkl"),
        },
        parameters={"seed": 5},
    )


def replayed_outputs(run_dir: Path) -> dict[str, object]:
    return {
        path.stem: pickle.loads(path.read_bytes())
        for path in sorted(run_dir.glob("*/outputs/*/data/*.pkl"))
    }


@pytest.mark.slow
def test_every_grouping_replays_to_the_outputs_of_kedro_run(make_project):
    project = grouped_project(make_project)
    project.kedro("run", check=True)
    expected = {
        path.stem: pickle.loads(path.read_bytes())
        for path in project.path.glob("**/*.pkl")  # where `kedro run` saved them
    }
    assert expected == {"left_a": 7, "report": 8 + 8, "summary": 8 + 6}

    for label, steps in STEP_COUNTS.items():
        by, _, ungrouped = label.partition("+")
        grouping = {"by": by, "ungrouped": ungrouped} if ungrouped else by
        report = replay(project, compile_job(project, job={"grouping": grouping})).report

        assert report.ok, (label, [(s.name, s.status) for s in report.steps])
        assert len(report.steps) == steps, label
        assert replayed_outputs(report.run_dir) == expected, label
