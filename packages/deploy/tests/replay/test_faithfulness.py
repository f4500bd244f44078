"""What fails on Azure ML fails in the replay, and what works there works here: data crossing
steps, the code upload's ignore file, hooks in every step, data assets, image mode."""

from __future__ import annotations

import json
import pickle
import subprocess

import pytest
import yaml

from project_factory import (
    NodeSpec,
    chain,
    pipeline_dataset,
    read_hook_log,
)

from .conftest import NODE_FUNCTIONS, compile_job, replay

ASSET = {
    "type": "kedro_azureml_runtime.datasets.AzureMLAssetDataset",
    "azureml_dataset": "raw-customers",
    "azureml_version": "3",
    "dataset": {"type": "pickle.PickleDataset", "filepath": "customers.pkl"},
}


@pytest.mark.slow
def test_a_memory_dataset_crossing_steps_fails_as_on_azure(make_project):
    nodes, _ = chain(2)
    project = make_project(nodes=nodes, catalog={"d_0": {"type": "MemoryDataset"}})
    job_file = compile_job(project, "--skip-preflight")

    report = replay(project, job_file).report

    assert report.step("node_0").status == "succeeded"
    consumer = report.step("node_1")
    assert consumer.status == "failed" and consumer.exit_code == 1
    # Newer Kedro prefixes the dataset name ("d_0: Data for ..."), Kedro 1.0 does not.
    assert "Data for MemoryDataset has not been saved yet" in consumer.log_path.read_text()
    assert report.status == "failed"


@pytest.mark.slow
def test_steps_see_only_what_the_code_upload_sends(make_project):
    project = make_project(
        nodes=[NodeSpec("check", "check_snapshot", ["params:seed"], ["ok"])],
        extra_functions=NODE_FUNCTIONS,
        extra_files={
            "assets/excluded.txt": "listed in .amlignore",
            "assets/kept.txt": "listed in .gitignore only, which does not count next to .amlignore",
            ".amlignore": "assets/excluded.txt\n",
            ".gitignore": "assets/\n",
            "conf/local/credentials.yml": "token: never uploaded\n",
            "data/01_raw/local.csv": "never uploaded\n",
        },
    )
    assert (project.path / "assets" / "excluded.txt").is_file()  # locally, every file is there

    report = replay(project, compile_job(project)).report

    assert report.ok, report.step("check").log_path.read_text()
    assert not (report.run_dir / "code-snapshot" / "assets" / "excluded.txt").exists()


@pytest.mark.slow
def test_the_hook_lifecycle_fires_in_every_step(hook_recording_chain, step_starts):
    project, hook_log = hook_recording_chain(2)

    job_file = compile_job(project)
    hook_log.unlink()  # compiling opened the project too

    report = replay(project, job_file, max_parallel=1, **step_starts.options).report

    assert report.ok
    step_starts.assert_started_so(report)
    calls = read_hook_log(hook_log)
    runs = [call["nodes"] for call in calls if call["hook"] == "before_pipeline_run"]
    assert runs == [["node_0"], ["node_1"]]
    for hook in ("after_context_created", "after_catalog_created", "after_pipeline_run"):
        assert sum(call["hook"] == hook for call in calls) == 2, hook
    node_hooks = [c["hook"] for c in calls if c.get("node") == "node_1"]
    assert node_hooks == [
        "tryfirst.before_node_run",
        "before_node_run",
        "trylast.before_node_run",
        "after_node_run",
    ]


def test_a_data_asset_input_is_read_from_the_local_asset_cache(make_project):
    project = make_project(
        nodes=[NodeSpec("score", "add_one", ["customers"], ["scored"])],
        catalog={"customers": ASSET, "scored": pipeline_dataset("scored.pkl")},
    )
    cache = project.path / "data" / "raw-customers" / "3"
    cache.mkdir(parents=True)
    (cache / "customers.pkl").write_bytes(pickle.dumps(41))
    job_file = compile_job(project)
    assert yaml.safe_load(job_file.read_text())["jobs"]["score"]["inputs"]["customers"]["path"] == (
        "azureml:raw-customers:3"
    )

    report = replay(project, job_file).report

    assert report.ok
    scored = report.run_dir / "score" / "outputs" / "scored" / "scored.pkl"
    assert pickle.loads(scored.read_bytes()) == 42
    assert [p.name for p in cache.iterdir()] == ["customers.pkl"]


def test_a_data_asset_missing_from_the_cache_fails_its_step_with_the_reason(make_project):
    project = make_project(
        nodes=[NodeSpec("score", "add_one", ["customers"], ["scored"])],
        catalog={"customers": ASSET, "scored": pipeline_dataset("scored.pkl")},
    )

    report = replay(project, compile_job(project)).report

    score = report.step("score")
    assert score.status == "failed" and score.exit_code is None
    assert "azureml:raw-customers:3, which the replay cannot download" in (score.message or "")
    assert str(project.path / "data" / "raw-customers" / "3") in (score.message or "")
    assert score.message in score.log_path.read_text()


@pytest.mark.slow
def test_image_mode_steps_run_in_their_working_copy_of_the_project(make_project):
    nodes = [NodeSpec("describe", "describe_step", ["params:seed"], ["report"])]
    catalog = {"report": pipeline_dataset("report.json", "json.JSONDataset")}
    project = make_project(nodes=nodes, catalog=catalog, extra_functions=NODE_FUNCTIONS)
    job_file = compile_job(
        project,
        execution={"mode": "image", "working_directory": "/opt/project"},
        environment={"__default__": {"image": "example.azurecr.io/demo-project:1.0"}},
    )
    step = yaml.safe_load(job_file.read_text())["jobs"]["describe"]
    assert "code" not in step and step["command"].startswith("cd /opt/project && ")

    report = replay(project, job_file).report

    assert report.ok
    seen = json.loads(
        (report.run_dir / "describe" / "outputs" / "report" / "report.json").read_text()
    )
    assert seen["cwd"] == str(report.run_dir / "describe" / "code")


@pytest.mark.slow
def test_a_step_cannot_import_what_the_code_upload_leaves_out_of_the_project(
    make_project, step_starts
):
    """Kedro puts the project's ``src`` on ``PYTHONPATH`` when ``run --local`` opens the project;
    a step that inherited it would import a module the snapshot left out from the project
    itself, where Azure ML fails with ``ModuleNotFoundError``."""
    project = make_project(
        nodes=[NodeSpec("helped", "use_local_helper", ["params:seed"], ["ok"])],
        extra_functions=(
            "\n\ndef use_local_helper(seed):\n"
            "    import local_helper\n\n"
            "    return local_helper.VALUE + seed\n"
        ),
        extra_files={"src/local_helper.py": "VALUE = 1\n", ".amlignore": "src/local_helper.py\n"},
    )
    compile_job(project)

    result = project.kedro("azureml", "run", "-j", "train", "--local", *step_starts.args)

    assert result.returncode == 1, result.stdout + result.stderr
    (run,) = (project.path / ".azureml-local" / "runs").iterdir()
    state = json.loads((run / "run.json").read_text())["steps"]["helped"]
    assert state["status"] == "failed" and state["start"] == (
        "warm" if step_starts.warm else "cold"
    )
    assert "No module named 'local_helper'" in (run / "helped" / "step.log").read_text()


@pytest.mark.slow
def test_a_step_finds_no_git_repository_though_the_project_is_one(make_project, step_starts):
    """The run folder is inside the project: without a ceiling, git (Kedro's session records the
    commit, MLflow tags its runs with it) found the project's repository above the working copy,
    where Azure ML's code upload has no ``.git`` and nothing above it."""
    project = make_project(
        nodes=[NodeSpec("gitless", "git_repository", ["params:seed"], ["found"])],
        extra_functions=(
            "\n\ndef git_repository(seed):\n"
            "    import subprocess\n\n"
            "    found = subprocess.run(\n"
            "        ['git', 'rev-parse', '--show-toplevel'], capture_output=True, text=True\n"
            "    )\n"
            "    if found.returncode == 0:\n"
            "        raise RuntimeError(f'this step is in a git repository: {found.stdout}')\n"
            "    return seed\n"
        ),
    )
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "project"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=project.path,
            check=True,
        )
    compile_job(project)

    result = project.kedro("azureml", "run", "-j", "train", "--local", *step_starts.args)

    assert result.returncode == 0, result.stdout + result.stderr
