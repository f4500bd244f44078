"""``kedro azureml plan --html`` and the page ``run --local`` keeps, on a real Kedro project."""

from __future__ import annotations

import re

import pytest
from plan_page_reading import read_page

from project_factory import NodeSpec, azureml_yml
from project_factory import pipeline_dataset as project_pipeline_dataset


@pytest.fixture
def project(make_project):
    return make_project(
        nodes=[
            NodeSpec("preprocess", "identity", ["params:seed"], ["preprocessed"]),
            NodeSpec("train", "add_one", ["preprocessed"], ["model"]),
            NodeSpec("evaluate", "join", ["model", "preprocessed"], ["metrics"]),
        ],
        catalog={"metrics": project_pipeline_dataset("metrics.pkl")},
        extra_files={"conf/base/azureml.yml": azureml_yml({"train": {}})},
    )


def test_plan_html_writes_the_page_of_the_compiled_job(project):
    result = project.kedro(
        "azureml", "plan", "-j", "train", "--html", "pages/train.html", check=True
    )

    page = project.path / "pages" / "train.html"
    assert read_page(page).states == {
        "preprocess": "planned",
        "train": "planned",
        "evaluate": "planned",
    }
    assert "Plan page of job 'train': 3 nodes in 3 steps -> pages/train.html" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--run"], 2, "--run needs --html FILE"),
        (
            ["--html", "p.html", "--run", "20990101-000000-abcd"],
            1,
            "no replay run '20990101-000000-abcd'",
        ),
        (["--html", "p.html", "--run"], 1, "no replay run in .azureml-local/runs yet"),
    ],
)
def test_plan_html_refuses_what_it_cannot_show_in_one_line(project, args, code, message):
    result = project.kedro("azureml", "plan", "-j", "train", *args)

    assert result.returncode == code
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert not (project.path / "p.html").exists()


@pytest.mark.slow
def test_run_local_keeps_a_page_and_plan_html_run_shows_the_latest_run(project):
    replayed = project.kedro("azureml", "run", "-j", "train", "--local", check=True)

    shown = re.search(r"plan page: (\S+) \(reload it to follow the run\)", replayed.stdout)
    assert shown, replayed.stdout
    run_page = project.path / shown[1]
    assert run_page.parent.parent == project.path / ".azureml-local" / "runs"
    assert set(read_page(run_page).states.values()) == {"completed"}

    project.kedro(
        "azureml", "plan", "-j", "train", "--html", "pages/latest.html", "--run", check=True
    )

    page = project.path / "pages" / "latest.html"
    latest = read_page(page)
    assert latest.states == {
        "preprocess": "completed",
        "train": "completed",
        "evaluate": "completed",
    }
    assert latest.links and all((page.parent / link).is_file() for link in latest.links)
    assert all(link.startswith("../.azureml-local/runs/") for link in latest.links)
