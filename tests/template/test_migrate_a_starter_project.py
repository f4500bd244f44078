"""The tutorial "Migrate an existing project", followed on a project made with `kedro new`.

A project rendered by Kedro's own bundled template gets a starter's pipeline (CSV and Parquet
inputs, Parquet intermediates, a versioned model, a JSON report and a plot), all on local paths.
Then, as the tutorial says: `kedro azureml init`; `kedro azureml doctor` reports each failure
class before anything is submitted; the documented fixes make doctor pass; the local replay runs
the job step by step; and `copier update` brings a later template release into the adopted
project without touching what the project owns.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from template_testing import commit_all, git, run_copier, snapshot_template

from project_factory import run_kedro

pytestmark = pytest.mark.slow

PACKAGE = "spaceflights_lite"

NODES = '''\
"""A starter's nodes: companies and reviews in, a model, its metrics and a plot out."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd


def preprocess_companies(companies: pd.DataFrame) -> pd.DataFrame:
    companies = companies.copy()
    companies["rating"] = companies["rating"].str.rstrip("%").astype(float) / 100
    return companies


def create_model_input(companies: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    return companies.merge(reviews, on="company_id")


def train_model(table: pd.DataFrame, seed: int) -> dict:
    slope = float((table["score"] * table["rating"]).sum() / (table["rating"] ** 2).sum())
    return {"slope": slope, "seed": seed}


def evaluate_model(model: dict, table: pd.DataFrame) -> tuple[dict, plt.Figure]:
    predictions = table["rating"] * model["slope"]
    error = float(((predictions - table["score"]) ** 2).mean())
    figure, axes = plt.subplots()
    axes.scatter(table["rating"], table["score"])
    return {"mse": round(error, 6), "rows": len(table)}, figure
'''

PIPELINE_REGISTRY = f'''\
"""The starter's pipeline."""

from kedro.pipeline import Node, Pipeline

from {PACKAGE}.nodes import create_model_input, evaluate_model, preprocess_companies, train_model


def register_pipelines() -> dict[str, Pipeline]:
    pipeline = Pipeline(
        [
            Node(preprocess_companies, "companies", "preprocessed_companies", name="preprocess"),
            Node(
                create_model_input,
                ["preprocessed_companies", "reviews"],
                "model_input_table",
                name="model_input",
            ),
            Node(train_model, ["model_input_table", "params:seed"], "regressor", name="train"),
            Node(
                evaluate_model,
                ["regressor", "model_input_table"],
                ["metrics", "rating_plot"],
                name="evaluate",
            ),
        ]
    )
    return {{"__default__": pipeline}}
'''

STARTER_CATALOG = """\
companies:
  type: pandas.CSVDataset
  filepath: data/01_raw/companies.csv

reviews:
  type: pandas.ParquetDataset
  filepath: data/01_raw/reviews.parquet

preprocessed_companies:
  type: pandas.ParquetDataset
  filepath: data/02_intermediate/preprocessed_companies.parquet

model_input_table:
  type: pandas.ParquetDataset
  filepath: data/03_primary/model_input_table.parquet

regressor:
  type: pickle.PickleDataset
  filepath: data/06_models/regressor.pickle
  versioned: true

metrics:
  type: json.JSONDataset
  filepath: data/08_reporting/metrics.json

rating_plot:
  type: matplotlib.MatplotlibDataset
  filepath: data/08_reporting/rating_plot.png
"""

#: The catalog after the tutorial's fixes: the raw files (small, not secret) live in inputs/,
#: which the code snapshot ships; everything a node writes is an AzureMLPipelineDataset.
MIGRATED_CATALOG = """\
companies:
  type: pandas.CSVDataset
  filepath: inputs/companies.csv

reviews:
  type: pandas.ParquetDataset
  filepath: inputs/reviews.parquet

preprocessed_companies:
  type: kedro_azureml_runtime.datasets.AzureMLPipelineDataset
  dataset:
    type: pandas.ParquetDataset
    filepath: 02_intermediate/preprocessed_companies.parquet

model_input_table:
  type: kedro_azureml_runtime.datasets.AzureMLPipelineDataset
  dataset:
    type: pandas.ParquetDataset
    filepath: 03_primary/model_input_table.parquet

regressor:
  type: kedro_azureml_runtime.datasets.AzureMLPipelineDataset
  versioned: true
  dataset:
    type: pickle.PickleDataset
    filepath: 06_models/regressor.pickle

metrics:
  type: kedro_azureml_runtime.datasets.AzureMLPipelineDataset
  dataset:
    type: json.JSONDataset
    filepath: 08_reporting/metrics.json

rating_plot:
  type: kedro_azureml_runtime.datasets.AzureMLPipelineDataset
  dataset:
    type: matplotlib.MatplotlibDataset
    filepath: 08_reporting/rating_plot.png
"""

#: What a starter adds to the requirements.txt of `kedro new`: the step image and the replay's
#: step environment install only these, so a dataset or node import left out fails the replay.
STARTER_REQUIREMENTS = (
    "kedro-datasets[pandas-csvdataset,pandas-parquetdataset,matplotlib-matplotlibdataset]\n"
)

COMPANIES_CSV = "company_id,rating\n1,90%\n2,75%\n3,60%\n4,95%\n"


def kedro(project: Path, *args: str, check: bool = True):
    return run_kedro(project, *args, check=check, timeout=600)


def new_starter_project(parent: Path) -> Path:
    """`kedro new` with Kedro's bundled template, then a starter's pipeline and data."""
    kedro(parent, "new", "--name", "Spaceflights Lite", "--tools", "none", "--example", "no")
    project = parent / "spaceflights-lite"
    package = project / "src" / PACKAGE
    (package / "nodes.py").write_text(NODES)
    (package / "pipeline_registry.py").write_text(PIPELINE_REGISTRY)
    (project / "conf/base/catalog.yml").write_text(STARTER_CATALOG)
    (project / "conf/base/parameters.yml").write_text("seed: 42\n")
    (project / "conf/local/credentials.yml").write_text("warehouse:\n  password: s3cr3t\n")
    requirements = project / "requirements.txt"  # what the starter's nodes and catalog import
    requirements.write_text(requirements.read_text() + STARTER_REQUIREMENTS)
    raw = project / "data" / "01_raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "companies.csv").write_text(COMPANIES_CSV)
    import pandas as pd

    pd.DataFrame({"company_id": [1, 2, 3, 4], "score": [0.8, 0.7, 0.65, 0.9]}).to_parquet(
        raw / "reviews.parquet"
    )
    return project


def metrics_of_kedro_run(project: Path) -> dict:
    kedro(project, "run")
    return json.loads((project / "data/08_reporting/metrics.json").read_text())


def findings(report: str) -> set[tuple[str, str]]:
    """(severity, subject) of each finding in doctor's report."""
    return set(re.findall(r"^\s*(error|warning): (\S+?)(?::| \()", report, re.MULTILINE))


def test_a_kedro_new_project_migrates_and_stays_updatable(tmp_path):
    template_repo = snapshot_template(tmp_path / "template")  # this test releases a new version
    project = new_starter_project(tmp_path)
    metrics_before = metrics_of_kedro_run(project)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "A Kedro starter")

    # 1. init: the Azure ML layer, listed, and `kedro run` exactly as before
    adopted = kedro(project, "azureml", "init", "--template", str(template_repo))
    for path in ("conf/base/azureml.yml", ".amlignore", "Dockerfile", ".dockerignore"):
        assert f"added       {path}" in adopted.stdout
    assert "add `kedro-azureml-runtime==" in adopted.stdout  # requirements.txt lacks it
    assert (
        'pip install -r requirements.txt "kedro-azureml-runtime'
        in (project / "Dockerfile").read_text()
    )
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""  # nothing changed
    assert metrics_of_kedro_run(project) == metrics_before

    # 2. doctor: every failure class, before anything is submitted
    diagnosis = kedro(project, "azureml", "doctor", "-j", "default", check=False)
    assert diagnosis.returncode == 1
    assert findings(diagnosis.stdout) >= {
        ("error", "companies"),  # inputs under data/, never uploaded
        ("error", "reviews"),
        ("error", "preprocessed_companies"),  # local files cannot cross steps
        ("error", "model_input_table"),
        ("error", "regressor"),
        ("error", "metrics"),  # terminal outputs on a local path would be lost
        ("error", "rating_plot"),
    }, diagnosis.stdout
    assert "always left out: /data/" in diagnosis.stdout
    assert "move it out of data/" in diagnosis.stdout
    assert "AzureMLPipelineDataset" in diagnosis.stdout
    with_local = kedro(project, "azureml", "doctor", "-j", "default", "-e", "local", check=False)
    assert ("warning", "conf/local") in findings(with_local.stdout)
    assert "credentials" not in diagnosis.stdout  # conf/local never ships: nothing to report
    refused = kedro(project, "azureml", "run", "-j", "default", "--local", check=False)
    assert refused.returncode == 1 and "7 finding(s)" in refused.stderr  # nothing ran

    # 3. the documented fixes
    (project / "inputs").mkdir()
    for name in ("companies.csv", "reviews.parquet"):
        (project / "data/01_raw" / name).rename(project / "inputs" / name)
    (project / "conf/base/catalog.yml").write_text(MIGRATED_CATALOG)
    pin = re.search(r"add `(kedro-azureml-runtime==[^`]+)`", adopted.stdout)[1]
    requirements = project / "requirements.txt"
    requirements.write_text(requirements.read_text().rstrip("\n") + f"\n{pin}\n")  # as init says
    clean = kedro(project, "azureml", "doctor", "-j", "default", "--strict")
    assert findings(clean.stdout) == set(), clean.stdout
    assert metrics_of_kedro_run(project) == metrics_before  # locally, still under data/

    # 4. the job, step by step, as Azure ML would run it
    replay = kedro(project, "azureml", "run", "-j", "default", "--local")
    assert re.search(r"Run \S+ succeeded", replay.stdout), replay.stdout
    (run,) = [p for p in (project / ".azureml-local" / "runs").iterdir() if p.is_dir()]
    snapshot = {
        p.relative_to(run / "code-snapshot").as_posix() for p in (run / "code-snapshot").rglob("*")
    }
    assert "inputs/companies.csv" in snapshot
    assert not [p for p in snapshot if p.startswith(("data/", "conf/local", ".git/"))]
    assert not [p for p in snapshot if "credentials" in p]
    (metrics_file,) = (run / "evaluate" / "outputs").rglob("metrics.json")
    assert json.loads(metrics_file.read_text()) == metrics_before
    assert list((run / "evaluate" / "outputs").rglob("rating_plot.png"))
    models = [p for p in (run / "train" / "outputs").rglob("regressor.pickle") if p.is_file()]
    (model_file,) = models
    assert model_file.parent.parent.name == "regressor.pickle"  # <path>/<version>/<file>

    # 5. a later template release reaches the adopted project through `copier update`, after a
    # replay and a compile: what the tool wrote for itself leaves `git status` clean
    compiled = kedro(project, "azureml", "compile", "-j", "default")
    assert ".azureml-local/compiled/default.yml" in compiled.stdout
    git(project, "add", "--all")
    commit_all(project, "Adopt the kedro-azureml template")
    assert git(project, "status", "--porcelain", "--untracked-files=all", "--ignored=no") == ""
    committed = git(project, "ls-files").splitlines()
    assert not [p for p in committed if p.startswith(".azureml-local")]
    owned = {p: (project / p).read_bytes() for p in ("conf/base/catalog.yml", "README.md")}
    settings = (project / "src" / PACKAGE / "settings.py").read_bytes()
    release_template_change(template_repo)
    run_copier(
        "update", "--trust", "--defaults", "--skip-answered", "--conflict", "inline",
        "--vcs-ref", "v99.0.0", cwd=project,
    )  # fmt: skip
    assert "notebooks/" in (project / ".amlignore").read_text().splitlines()
    assert '"kedro-azureml-runtime==99.0.0"' in (project / "Dockerfile").read_text()
    assert not (project / ".editorconfig").exists()  # the template's, but not an adopted file
    assert (project / "src" / PACKAGE / "settings.py").read_bytes() == settings
    assert {p: (project / p).read_bytes() for p in owned} == owned
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v99.0.0" and answers["adopt"] is True
    # the update moved the Dockerfile's runtime pin, not requirements.txt's: doctor says so
    pins_apart = kedro(project, "azureml", "doctor", "-j", "default", check=False)
    assert pins_apart.returncode == 1, pins_apart.stdout
    assert "Fix: set kedro-azureml-runtime==99.0.0 in requirements.txt" in pins_apart.stdout
    requirements.write_text(requirements.read_text().replace(pin, "kedro-azureml-runtime==99.0.0"))
    assert kedro(project, "azureml", "doctor", "-j", "default").returncode == 0


def release_template_change(template: Path) -> None:
    """A later release: an adopted file and files adopted projects do not take both change."""
    project = template / "templates" / "kedro-azureml-project" / "project"
    with (project / ".amlignore").open("a") as amlignore:
        amlignore.write("\n# notebooks run on laptops only\nnotebooks/\n")
    (project / ".editorconfig").write_text("root = true\n")
    settings = project / "src" / "{{ package_name }}" / "settings.py.jinja"
    settings.write_text(settings.read_text() + "\n# template v99\n")
    commit_all(template, "template v99.0.0")
    git(template, "tag", "v99.0.0")
