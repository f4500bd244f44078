"""What a step gets before its command runs: folders, inputs, expanded command, environment."""

from __future__ import annotations

import os
import shlex

import pytest

from kedro_azureml_deploy.replay.compiled_file import read_compiled_file
from kedro_azureml_deploy.replay.run_store import RunStore
from kedro_azureml_deploy.replay.step_setup import StepSetupError, prepare_step

from .conftest import shell_step


@pytest.fixture
def prepare(tmp_path, write_job):
    """``prepare(jobs, step)``: a run of the hand-written job ``jobs`` (its snapshot holding one
    file) and the prepared step ``step`` of it."""
    project = tmp_path / "my project"
    project.mkdir()

    def run(jobs, step: str):
        job = read_compiled_file(write_job(jobs))
        run = RunStore(tmp_path / "runs").create(job.path, job.text, list(job.steps))
        run.snapshot_folder.mkdir()
        (run.snapshot_folder / "pyproject.toml").write_text("[project]\n")
        prepared = prepare_step(
            job.steps[step], run, project_path=project, bin_folder=tmp_path / "venv" / "bin"
        )
        return prepared, run, project

    return run


def test_placeholders_become_the_step_s_folders_quoted_for_the_shell(prepare, monkeypatch):
    monkeypatch.setenv("FROM_THE_REPLAY", "inherited")
    jobs = {
        "a": shell_step("produce ${{outputs.x}}", outputs={"x": {}}),
        "b": shell_step(
            "consume ${{ inputs.x }} --to ${{outputs.y}}",
            inputs={"x": "${{parent.jobs.a.outputs.x}}"},
            outputs={"y": {}},
            environment_variables={"KEDRO_ENV": "base"},
        ),
    }
    prepared, run, _ = prepare(jobs, "b")

    produced, written = run.output_folder("a", "x"), run.output_folder("b", "y")
    assert shlex.split(prepared.command) == ["consume", str(produced), "--to", str(written)]
    assert prepared.inputs == {"x": produced}
    assert written.is_dir() and not any(written.iterdir())
    assert prepared.cwd == run.working_copy("b")
    assert (prepared.cwd / "pyproject.toml").is_file()
    assert prepared.env["KEDRO_ENV"] == "base"
    assert prepared.env["PATH"].split(os.pathsep)[0].endswith("venv/bin")
    assert prepared.env["FROM_THE_REPLAY"] == "inherited"


def test_a_step_prepared_again_starts_from_empty_folders(prepare):
    jobs = {"a": shell_step("produce ${{outputs.x}}", outputs={"x": {}})}
    _, run, _ = prepare(jobs, "a")
    (run.output_folder("a", "x") / "old.pkl").write_text("from an earlier attempt")
    (run.working_copy("a") / "left.txt").write_text("from an earlier attempt")

    prepare_step(
        read_compiled_file(run.job_copy).steps["a"],
        run,
        project_path=run.path,
        bin_folder=run.path,
    )

    assert not any(run.output_folder("a", "x").iterdir())
    assert not (run.working_copy("a") / "left.txt").exists()


def test_image_mode_runs_in_the_working_copy_instead_of_the_image_folder(prepare):
    jobs = {"a": {"type": "command", "command": "cd /app && kedro azureml execute -n a"}}
    prepared, run, _ = prepare(jobs, "a")
    cwd = shlex.quote(str(run.working_copy("a")))
    assert prepared.command == f"cd {cwd} && kedro azureml execute -n a"


@pytest.mark.parametrize(
    ("reference", "versions", "expected"),
    [
        ("azureml:raw:3", ["3", "4"], "3"),
        ("azureml:raw@latest", ["9", "10", "local", "11.partial"], "10"),
    ],
)
def test_data_assets_come_from_the_local_cache(prepare, tmp_path, reference, versions, expected):
    cache = tmp_path / "my project" / "data" / "raw"
    for version in versions:
        (cache / version).mkdir(parents=True)
    jobs = {"a": shell_step("read ${{inputs.raw}}", inputs={"raw": {"path": reference}})}

    prepared, _, _ = prepare(jobs, "a")

    assert prepared.inputs["raw"] == cache / expected


@pytest.mark.parametrize("reference", ["azureml:raw:3", "azureml:raw@latest"])
def test_a_data_asset_missing_from_the_cache_fails_the_step(prepare, reference):
    jobs = {"a": shell_step("read ${{inputs.raw}}", inputs={"raw": {"path": reference}})}
    with pytest.raises(StepSetupError, match=f"data asset {reference}, which the replay cannot"):
        prepare(jobs, "a")


def test_a_uri_file_asset_is_the_one_file_of_its_cache_folder(prepare, tmp_path):
    cache = tmp_path / "my project" / "data" / "raw" / "2"
    cache.mkdir(parents=True)
    (cache / "customers.csv").write_text("id\n")
    jobs = {
        "a": shell_step(
            "read ${{inputs.raw}}", inputs={"raw": {"type": "uri_file", "path": "azureml:raw:2"}}
        )
    }

    prepared, _, _ = prepare(jobs, "a")

    assert prepared.inputs["raw"] == cache / "customers.csv"


def test_a_uri_file_asset_cache_with_several_files_fails_the_step(prepare, tmp_path):
    cache = tmp_path / "my project" / "data" / "raw" / "2"
    cache.mkdir(parents=True)
    (cache / "a.csv").write_text("")
    (cache / "b.csv").write_text("")
    jobs = {
        "a": shell_step(
            "read ${{inputs.raw}}", inputs={"raw": {"type": "uri_file", "path": "azureml:raw:2"}}
        )
    }

    with pytest.raises(StepSetupError, match="holds 2 files instead of one"):
        prepare(jobs, "a")


ONE_STEP = {"a": shell_step("produce ${{outputs.x}}", outputs={"x": {}})}


def test_steps_get_no_python_path_into_the_project_and_every_other_entry(
    prepare, tmp_path, monkeypatch
):
    """Kedro adds the project's source folder to ``PYTHONPATH`` when it opens the project: a
    step imports the project from its working copy only. Entries outside the project, and
    relative ones (folders of the working copy, where the step runs), stay."""
    project = tmp_path / "my project"
    elsewhere = project.parent / "shared-libs"
    inside = [project / "src", project / "src" / "pkg", project / ".." / project.name / "lib"]
    entries = [str(inside[0]), str(elsewhere), "src", str(inside[1]), str(inside[2])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(entries))

    prepared, _, _ = prepare(ONE_STEP, "a")

    assert prepared.env["PYTHONPATH"] == os.pathsep.join([str(elsewhere), "src"])
    assert prepared.env["PATH"].split(os.pathsep)[0].endswith("venv/bin")


def test_a_python_path_of_the_project_alone_is_not_passed_on(prepare, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "my project" / "src"))

    prepared, _, _ = prepare(ONE_STEP, "a")

    assert "PYTHONPATH" not in prepared.env


def test_a_python_path_into_a_source_folder_linked_out_of_the_project_is_not_passed_on(
    prepare, tmp_path, monkeypatch
):
    """Kedro adds the resolved source folder: with ``src`` a link to a shared folder, that entry
    is outside the project, and still the project's code."""
    shared = tmp_path / "shared" / "src"
    shared.mkdir(parents=True)
    (tmp_path / "my project").mkdir(exist_ok=True)
    (tmp_path / "my project" / "src").symlink_to(shared)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(shared), str(tmp_path / "shared")]))

    prepared, _, _ = prepare(ONE_STEP, "a")

    assert prepared.env["PYTHONPATH"] == str(tmp_path / "shared")


def test_a_python_path_entry_in_a_symlink_loop_is_passed_on_as_it_is(
    prepare, tmp_path, monkeypatch
):
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    monkeypatch.setenv("PYTHONPATH", str(loop))

    prepared, _, _ = prepare(ONE_STEP, "a")

    assert prepared.env["PYTHONPATH"] == str(loop)
