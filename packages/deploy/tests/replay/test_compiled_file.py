"""Reading a compiled job file into step specs, and refusing what the replay cannot reproduce."""

from __future__ import annotations

import pytest

from kedro_azureml_deploy.errors import KedroAzureMLError
from kedro_azureml_deploy.replay import ReplayError
from kedro_azureml_deploy.replay.compiled_file import (
    AssetInput,
    StepOutputInput,
    read_compiled_file,
)

from .conftest import shell_step

PRODUCE = "kedro azureml execute --node a --az-output x ${{outputs.x}}"
CONSUME = "kedro azureml execute --node b --az-input x ${{inputs.x}}"


def two_steps(**consumer: object) -> dict[str, dict[str, object]]:
    return {
        "a": shell_step(PRODUCE, outputs={"x": {"type": "uri_folder"}}),
        "b": shell_step(
            CONSUME,
            inputs={"x": "${{parent.jobs.a.outputs.x}}"},
            **consumer,  # type: ignore[arg-type]
        ),
    }


def test_steps_inputs_outputs_and_settings_are_read(write_job, tmp_path):
    job = read_compiled_file(
        write_job(
            two_steps(environment_variables={"KEDRO_ENV": "base", "N": 3}, limits={"timeout": 60}),
            settings={"continue_on_step_failure": True},
        )
    )

    assert list(job.steps) == ["a", "b"]
    assert job.code == tmp_path.resolve()
    assert job.continue_on_step_failure is True
    assert job.display_name == "hand"
    b = job.steps["b"]
    assert b.inputs == {"x": StepOutputInput("a", "x")}
    assert b.upstream == ("a",)
    assert b.environment_variables == {"KEDRO_ENV": "base", "N": "3"}
    assert b.timeout == 60
    assert job.steps["a"].outputs == ("x",) and job.steps["a"].timeout is None
    assert job.dependents("a") == {"b"} and job.dependents("b") == set()


def test_continue_on_step_failure_defaults_to_false_as_on_azure(write_job):
    assert read_compiled_file(write_job(two_steps())).continue_on_step_failure is False


def test_dependents_are_transitive(write_job):
    jobs = two_steps(outputs={"y": {"type": "uri_folder"}})
    jobs["b"]["command"] += " --az-output y ${{outputs.y}}"
    jobs["c"] = shell_step("echo ${{inputs.y}}", inputs={"y": "${{parent.jobs.b.outputs.y}}"})
    jobs["d"] = shell_step("echo independent")

    assert read_compiled_file(write_job(jobs)).dependents("a") == {"b", "c"}


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (
            {"type": "uri_folder", "path": "azureml:raw:3", "mode": "ro_mount"},
            AssetInput("raw", "3", "uri_folder"),
        ),
        ({"type": "uri_file", "path": "azureml:raw@latest"}, AssetInput("raw", None, "uri_file")),
        ({"path": "${{parent.jobs.a.outputs.x}}"}, StepOutputInput("a", "x")),
    ],
)
def test_inputs_are_step_outputs_or_data_assets(write_job, reference, expected):
    jobs = two_steps()
    jobs["b"]["inputs"] = {"x": reference}
    assert read_compiled_file(write_job(jobs)).steps["b"].inputs["x"] == expected


def test_image_mode_commands_name_their_working_directory(write_job):
    jobs = {"a": {"type": "command", "command": "cd '/app dir' && kedro azureml execute --node a"}}
    job = read_compiled_file(write_job(jobs))
    assert job.code is None
    assert job.steps["a"].image_workdir == "/app dir"


def test_a_missing_file_says_how_to_compile_one(tmp_path):
    with pytest.raises(ReplayError, match="does not exist: compile the job first") as error:
        read_compiled_file(tmp_path / "azureml-train.yml")
    assert isinstance(error.value, KedroAzureMLError)


def test_corrupt_yaml_names_the_position(tmp_path):
    path = tmp_path / "job.yml"
    path.write_text("type: pipeline\njobs: [unclosed\n")
    with pytest.raises(ReplayError, match=r"is not valid YAML \(line 3, column 1\)"):
        read_compiled_file(path)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("type: command\ncommand: echo\n", "(`type: command`)"),
        ("- a\n- b\n", "(no `type: pipeline`)"),
        ("", "(no `type: pipeline`)"),
    ],
)
def test_a_file_that_is_not_a_pipeline_job_is_refused(tmp_path, content, needle):
    path = tmp_path / "job.yml"
    path.write_text(content)
    with pytest.raises(ReplayError, match="is not an Azure ML pipeline job") as error:
        read_compiled_file(path)
    assert needle in str(error.value)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"jobs": {}}, "`jobs` holds no step"),
        ({"inputs": {"x": "${{parent.jobs.nope.outputs.x}}"}}, "reads output 'x' of step 'nope'"),
        ({"inputs": {"x": "./local/folder"}}, "jobs.b.inputs.x is './local/folder'"),
        ({"command": "echo ${{inputs.y}}"}, "declares no such input"),
        (
            {"command": "echo ${{parent.inputs.lr}}"},
            "expands ${{inputs.NAME}} and ${{outputs.NAME}} only",
        ),
        ({"type": "sweep"}, "is a `sweep` step"),
        ({"outputs": {"m": {"type": "mlflow_model"}}}, "outputs of type uri_folder only"),
        ({"limits": {"timeout": "soon"}}, "limits.timeout is 'soon'"),
        ({"code": "elsewhere"}, "different code folders"),
    ],
)
def test_what_the_replay_cannot_reproduce_is_refused_with_the_key(write_job, change, needle):
    jobs = two_steps()
    if "jobs" in change:
        jobs = change["jobs"]
    else:
        jobs["b"].update(change)
    with pytest.raises(ReplayError) as error:
        read_compiled_file(write_job(jobs))
    assert needle in str(error.value)


def test_steps_reading_each_other_in_a_cycle_are_refused(write_job):
    jobs = {
        "a": shell_step(
            "echo ${{inputs.y}}", inputs={"y": "${{parent.jobs.b.outputs.y}}"}, outputs={"x": {}}
        ),
        "b": shell_step(
            "echo ${{inputs.x}}", inputs={"x": "${{parent.jobs.a.outputs.x}}"}, outputs={"y": {}}
        ),
    }
    with pytest.raises(ReplayError, match="in a cycle"):
        read_compiled_file(write_job(jobs))


def test_a_code_folder_that_does_not_exist_is_refused(write_job):
    jobs = {"a": {"type": "command", "command": "echo", "code": "gone"}}
    with pytest.raises(ReplayError, match="the code folder 'gone'"):
        read_compiled_file(write_job(jobs))


@pytest.mark.parametrize("mode", ["rw_mount", "upload"])
def test_every_output_mode_is_replayed_as_an_empty_folder(write_job, mode):
    jobs = {
        "a": shell_step(PRODUCE, outputs={"x": {"type": "uri_folder", "mode": mode}}),
        "b": two_steps()["b"],
    }
    job = read_compiled_file(write_job(jobs))

    assert job.steps["a"].outputs == ("x",)
    assert job.steps["b"].inputs == {"x": StepOutputInput("a", "x")}
