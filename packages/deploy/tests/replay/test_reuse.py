"""A replay that knows what changed: ``--resume`` runs again every step whose fingerprint changed
(and says why), and with ``step_reuse: true`` a step unchanged since an earlier local run gets that
run's outputs, byte for byte, instead of running."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from project_factory import NodeSpec, default_azureml_config, pipeline_dataset

#: A starter's nodes on a companies table shipped in the snapshot (``inputs/``), as the tutorial
#: "Migrate an existing project" leaves spaceflights: the last step fails until it is fixed.
SPACEFLIGHTS_FUNCTIONS = """

def preprocess_companies(companies):
    companies = companies.copy()
    companies["rating"] = companies["rating"].str.rstrip("%").astype(float) / 100
    return companies


def create_model_input(companies, reviews):
    return companies.merge(reviews, on="company_id")


def train_model(table, test_size):
    rows = max(1, int(len(table) * (1 - test_size)))
    train = table.iloc[:rows]
    slope = float((train["score"] * train["rating"]).sum() / (train["rating"] ** 2).sum())
    return {"slope": slope, "test_size": test_size}


def evaluate_model(model, table):
    import os

    if not os.environ.get("REPLAY_FIXED"):  # the replay's environment, not the compiled job's
        raise RuntimeError("evaluation is broken until it is fixed")
    error = float(((table["rating"] * model["slope"] - table["score"]) ** 2).mean())
    return {"mse": round(error, 6), "rows": len(table)}


def export_table(table):
    return table
"""

SPACEFLIGHTS_NODES = [
    NodeSpec("preprocess", "preprocess_companies", ["companies"], ["preprocessed_companies"]),
    NodeSpec("model_input", "create_model_input", ["preprocessed_companies", "reviews"], ["table"]),
    NodeSpec("train", "train_model", ["table", "params:model_options.test_size"], ["regressor"]),
    NodeSpec("evaluate", "evaluate_model", ["regressor", "table"], ["metrics"]),
]

SPACEFLIGHTS_CATALOG = {
    "companies": {"type": "pandas.CSVDataset", "filepath": "inputs/companies.csv"},
    "reviews": {"type": "pandas.CSVDataset", "filepath": "inputs/reviews.csv"},
    "preprocessed_companies": pipeline_dataset("preprocessed.pkl"),
    "table": pipeline_dataset("table.pkl"),
    "regressor": pipeline_dataset("regressor.pkl"),
    "metrics": pipeline_dataset("metrics.json", "json.JSONDataset"),
}

COMPANIES = ["company_id,rating"] + [f"{i},{50 + (i * 7) % 50}%" for i in range(1, 41)]
REVIEWS = ["company_id,score"] + [f"{i},{(i * 13) % 100 / 100}" for i in range(1, 41)]


def spaceflights(make_project, **job):
    project = make_project(
        nodes=SPACEFLIGHTS_NODES,
        catalog=SPACEFLIGHTS_CATALOG,
        parameters={"seed": 1, "model_options": {"test_size": 0.2}},
        extra_functions=SPACEFLIGHTS_FUNCTIONS,
        extra_files={
            "inputs/companies.csv": "\n".join(COMPANIES) + "\n",
            "inputs/reviews.csv": "\n".join(REVIEWS) + "\n",
        },
    )
    config = default_azureml_config({"train": job})
    (project.path / "conf" / "base" / "azureml.yml").write_text(json.dumps(config, indent=2))
    return project


def run_local(project, *args, check=False):
    """``kedro azureml run -j train --local``: its output, and the run's folder."""
    result = project.kedro("azureml", "run", "-j", "train", "--local", *args, check=check)
    found = re.findall(r"^Run (\S+) (succeeded|failed|interrupted)", result.stdout, re.MULTILINE)
    assert found, result.stdout + result.stderr
    run_id, status = found[-1]
    return result.stdout, project.path / ".azureml-local" / "runs" / run_id, status


def metrics(run: Path) -> dict:
    (path,) = (run / "evaluate" / "outputs").rglob("metrics.json")
    return json.loads(path.read_text())


def reuse_lines(output: str) -> dict[str, str]:
    """``step: decision`` of the summary's Reuse section."""
    section = output.split("Reuse:\n", 1)[1] if "Reuse:\n" in output else ""
    lines = re.findall(r"^  (\w+): (.+)$", section.split("\nRun ", 1)[0], re.MULTILINE)
    return dict(lines)


def set_parameter(project, test_size: float) -> None:
    (project.path / "conf" / "base" / "parameters.yml").write_text(
        json.dumps({"seed": 1, "model_options": {"test_size": test_size}})
    )


@pytest.mark.slow
def test_resume_after_a_raw_input_changed_gives_the_result_of_a_fresh_run(
    make_project, monkeypatch
):
    project = spaceflights(make_project)
    output, run, status = run_local(project)
    assert status == "failed"
    state = json.loads((run / "run.json").read_text())
    assert [s["status"] for s in state["steps"].values()] == ["succeeded"] * 3 + ["failed"]
    assert all(s["fingerprint"] for s in state["steps"].values())

    # the user halves the raw input shipped in the snapshot, fixes the cause, and resumes
    companies = project.path / "inputs" / "companies.csv"
    companies.write_text("\n".join(COMPANIES[:21]) + "\n")
    monkeypatch.setenv("REPLAY_FIXED", "1")
    output, resumed, status = run_local(project, "--resume", run.name)

    assert status == "succeeded" and resumed == run
    decisions = reuse_lines(output)
    assert decisions["preprocess"] == "runs again because inputs/companies.csv changed"
    assert decisions["model_input"].startswith("runs again because input preprocessed_companies")
    assert decisions["train"].startswith("runs again because input table changed")
    _, fresh, status = run_local(project)
    assert status == "succeeded" and fresh != run
    assert metrics(resumed) == metrics(fresh) and metrics(fresh)["rows"] == 20

    # a parameter: only the steps consuming it (and what reads their outputs) run again
    set_parameter(project, 0.5)
    output, _, status = run_local(project, "--resume", run.name)
    decisions = reuse_lines(output)
    assert status == "succeeded"
    assert decisions["preprocess"] == "reused" and decisions["model_input"] == "reused"
    assert decisions["train"] == "runs again because parameter model_options.test_size changed"
    assert decisions["evaluate"].startswith("runs again because input regressor changed")

    # code: every step runs the changed module
    nodes = project.path / "src" / "demo_project" / "pipelines" / "nodes.py"
    nodes.write_text(nodes.read_text() + "\n# a comment\n")
    output, _, status = run_local(project, "--resume", run.name)
    assert reuse_lines(output)["preprocess"] == (
        "runs again because code changed: src/demo_project/pipelines/nodes.py"
    )


def output_files(run: Path, step: str) -> dict[str, bytes]:
    folder = run / step / "outputs"
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.slow
def test_step_reuse_gives_unchanged_steps_the_outputs_of_an_earlier_run(make_project, monkeypatch):
    monkeypatch.setenv("REPLAY_FIXED", "1")
    project = spaceflights(make_project, step_reuse=True)
    _, first, status = run_local(project)
    assert status == "succeeded"

    set_parameter(project, 0.5)
    output, second, status = run_local(project)
    assert status == "succeeded"
    decisions = reuse_lines(output)
    assert decisions["preprocess"] == f"reused from run {first.name}"
    assert decisions["model_input"] == f"reused from run {first.name}"
    assert decisions["train"] == "runs again because parameter model_options.test_size changed"
    for step in ("preprocess", "model_input"):
        assert output_files(second, step) == output_files(first, step)  # byte for byte
        assert not (second / step / "code").exists()  # it did not run
    assert metrics(second) != metrics(first)

    output, _, _ = run_local(project, "--no-reuse")
    assert set(reuse_lines(output).values()) == {"runs again because --no-reuse"}

    cache = project.kedro("azureml", "cache", check=True).stdout
    assert re.search(r"\b6 entries\b", cache), cache  # 4 steps, then 2 again
    cleared = project.kedro("azureml", "cache", "--clear", check=True).stdout
    assert "removed 6 entries" in cleared
    output, refilled, _ = run_local(project)
    assert reuse_lines(output)["preprocess"].startswith("runs again because the reuse cache")

    # a trigger-time value (a job input, not conf/) counts as the parameter it sets
    output, third, status = run_local(project, "--params", "model_options.test_size=0.25")
    decisions = reuse_lines(output)
    assert status == "succeeded"
    assert decisions["model_input"].startswith("reused from run")
    assert decisions["train"] == "runs again because parameter model_options.test_size changed"
    assert metrics(third) != metrics(refilled)  # the node saw the new value


def forecast(project, run: str = "latest") -> dict[str, str]:
    """``kedro azureml plan --reuse-from RUN``: the run compared with, and each step's decision."""
    planned = project.kedro(
        "azureml", "plan", "-j", "train", "--reuse-from", run, "--format", "json", check=True
    )
    reuse = json.loads(planned.stdout.strip().splitlines()[-1])["reuse"]
    return {"run": reuse["run"], **reuse["steps"]}


@pytest.mark.slow
def test_a_step_writing_where_the_fingerprint_cannot_see_always_runs(make_project, monkeypatch):
    monkeypatch.setenv("REPLAY_FIXED", "1")
    project = make_project(
        nodes=[*SPACEFLIGHTS_NODES[:2], NodeSpec("export", "export_table", ["table"], ["export"])],
        catalog={
            **SPACEFLIGHTS_CATALOG,
            "export": {"type": "pandas.CSVDataset", "filepath": "memory://exported.csv"},
        },
        extra_functions=SPACEFLIGHTS_FUNCTIONS,
        extra_files={
            "inputs/companies.csv": "\n".join(COMPANIES) + "\n",
            "inputs/reviews.csv": "\n".join(REVIEWS) + "\n",
        },
    )
    config = default_azureml_config({"train": {"step_reuse": True}})
    (project.path / "conf" / "base" / "azureml.yml").write_text(json.dumps(config, indent=2))
    _, first, _ = run_local(project)
    planned = forecast(project)
    assert planned == {
        "run": first.name,
        "preprocess": f"reused from run {first.name}",
        "model_input": f"reused from run {first.name}",
        "export": "always runs because it reads or writes export (CSVDataset: remote storage "
        "or no file), which the fingerprint cannot see",
    }
    output, _, status = run_local(project)
    decisions = reuse_lines(output)
    assert status == "succeeded"
    assert decisions["preprocess"] == f"reused from run {first.name}"
    assert decisions["export"] == planned["export"]

    set_parameter(project, 0.5)  # no step consumes it
    (project.path / "inputs" / "reviews.csv").write_text("\n".join(REVIEWS[:11]) + "\n")
    planned = forecast(project, first.name)
    assert planned["preprocess"] == f"reused from run {first.name}"
    assert planned["model_input"] == "runs again because inputs/reviews.csv changed"
    table = project.kedro("azureml", "plan", "-j", "train", "--reuse-from", "latest").stdout
    assert "  model_input: runs again because inputs/reviews.csv changed" in table
