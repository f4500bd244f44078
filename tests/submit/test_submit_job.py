"""Submitting jobs with the real ``MLClient`` over HTTPS to the fake Azure REST API, code to Azurite.

Most tests call ``submit_jobs`` in this process with an injected test credential and assert on the
requests the fake recorded and the blobs Azurite holds.
"""

from __future__ import annotations

import pytest

from azure_fake.credentials import FailingCredential, FakeTokenCredential
from kedro_azureml_deploy.azure.submission import submit_job, submit_jobs
from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.errors import SubmitError


def sent_steps(fake) -> dict[str, dict]:
    """Each step of the (last) job PUT, with the command and environment of its component."""
    components = {
        request.path.lower(): request.body["properties"]["componentSpec"]
        for request in fake.requests_to("PUT", r"/components/")
    }
    job = fake.bodies("PUT", r"/jobs/[^/]+$")[-1]["properties"]
    steps = {}
    for name, step in job["jobs"].items():
        component = components[step["componentId"].lower()]
        steps[name] = {
            "command": component["command"],
            "environment": component["environment"],
            "compute": step["computeId"].rsplit("/", 1)[-1],
            "code": component.get("code"),
            "environment_variables": step.get("environment_variables"),
        }
    return steps


def uploaded_files(azurite, fake) -> set[str]:
    """The uploaded files, relative to the snapshot folder (``LocalUpload/<id>/<folder>/...``)."""
    names = azurite.blob_names(fake.storage.container)
    return {name.split("/", 3)[3] for name in names}


@pytest.mark.slow
def test_submission_creates_one_step_per_node_with_command_compute_and_environment(
    fake_azure, azure_project, credential
):
    project = azure_project(fake_azure.base_url).project

    submission = submit_job(project, "train", CompileOptions(), credential=credential)

    steps = sent_steps(fake_azure)
    assert list(steps) == ["preprocess", "features", "train", "evaluate"]
    for name, step in steps.items():
        assert step["command"].startswith(
            f"kedro azureml execute --pipeline __default__ --node {name}"
        )
        assert step["environment_variables"]["KEDRO_ENV"] == "base"
        assert "/codes/" in step["code"]
    assert steps["train"]["compute"] == "gpu-cluster"
    assert {steps[name]["compute"] for name in ("preprocess", "features", "evaluate")} == {
        "cpu-cluster"
    }
    assert steps["preprocess"]["environment"].endswith("/environments/kedro-env/versions/3")
    assert "/environments/CliV2AnonymousEnvironment/" in steps["features"]["environment"]
    assert "--az-output model_input ${{outputs.model_input}}" in steps["features"]["command"]

    job = fake_azure.bodies("PUT", r"/jobs/[^/]+$")[-1]["properties"]
    assert job["experimentName"] == "demo"
    assert job["jobType"] == "Pipeline"
    assert submission.experiment_name == "demo"
    assert submission.run_name in fake_azure.jobs()
    assert submission.studio_url.startswith("https://ml.azure.com/runs/")
    assert submission.status == "NotStarted"


@pytest.mark.slow
def test_tokens_are_requested_before_anything_is_sent(fake_azure, azure_project, azurite):
    project = azure_project(fake_azure.base_url).project
    sent_before_token: list[tuple[str, int, int]] = []
    container = fake_azure.storage.container
    credential = FakeTokenCredential(
        on_token=lambda scope: sent_before_token.append(
            (scope, len(fake_azure.requests), len(azurite.blob_names(container)))
        )
    )

    submit_job(project, None, CompileOptions(), credential=credential)

    endpoint = fake_azure.base_url.rstrip("/")
    assert sent_before_token[0] == (f"{endpoint}/.default", 0, 0)
    assert fake_azure.requests[0].path.endswith("/workspaces/ws-demo")
    assert azurite.blob_names(container), "the code was uploaded afterwards"


@pytest.mark.slow
def test_code_snapshot_holds_the_project_and_never_local_secrets_or_data(
    fake_azure, azure_project, credential, azurite
):
    secrets = {
        "conf/local/credentials.yml": "token: secret\n",
        "conf/base/credentials_prod.yml": "token: secret\n",
        ".env": "TOKEN=secret\n",
        "src/.env.local": "TOKEN=secret\n",
        "data/01_raw/companies.csv": "id\n1\n",
        ".venv/lib/site.py": "",
        ".git/config": "",
        ".azureml-local/runs/x.json": "{}",
    }
    created = azure_project(fake_azure.base_url, extra_files=secrets)

    submit_job(created.project, "train", CompileOptions(), credential=credential)

    files = uploaded_files(azurite, fake_azure)
    package = created.files.package
    assert {
        "pyproject.toml",
        "conf/base/azureml.yml",
        "conf/base/catalog.yml",
        f"src/{package}/pipeline_registry.py",
        f"src/{package}/pipelines/nodes.py",
    } <= files
    assert not {name for name in files if name.startswith(("conf/local/", "data/", ".venv/"))}
    assert not {name for name in files if name.startswith((".git/", ".azureml-local/"))}
    assert not {name for name in files if "credentials" in name or ".env" in name}
    code = fake_azure.bodies("PUT", r"/codes/[^/]+/versions/[^/]+$")
    assert len(code) == 1, "one snapshot, shared by every step"


@pytest.mark.slow
def test_gitignore_of_the_project_is_honoured(fake_azure, azure_project, credential, azurite):
    extra = {".gitignore": "notebooks/\n*.log\n", "notebooks/explore.ipynb": "{}", "run.log": "x"}
    project = azure_project(fake_azure.base_url, extra_files=extra).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    files = uploaded_files(azurite, fake_azure)
    assert "pyproject.toml" in files and ".gitignore" in files
    assert "notebooks/explore.ipynb" not in files and "run.log" not in files


def test_auth_failure_is_one_message_and_nothing_is_sent_or_uploaded(
    fake_azure, azure_project, azurite
):
    project = azure_project(fake_azure.base_url).project
    failing = FailingCredential()

    with pytest.raises(SubmitError) as error:
        submit_jobs(project, ["train"], CompileOptions(), credential=failing)

    message = str(error.value)
    assert "\n" not in message
    assert "az login" in message and "managed identity" in message
    assert all(
        name in message for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET")
    )
    assert failing.calls == 1
    assert fake_azure.requests == []
    assert azurite.blob_names(fake_azure.storage.container) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "method", "path", "expected"),
    [
        (401, "GET", r"/workspaces/ws-demo$", "Azure refused the credentials"),
        (403, "PUT", r"/jobs/", "not allowed while creating the pipeline job"),
        (409, "PUT", r"/jobs/", "Azure ML reports a conflict"),
        (500, "PUT", r"/jobs/", "Azure ML answered 500 while creating the pipeline job"),
        (503, "POST", r"/startPendingUpload$", "Azure ML answered 503"),
    ],
)
def test_azure_error_answers_become_one_clear_message(
    fake_azure, azure_project, credential, status, method, path, expected
):
    project = azure_project(fake_azure.base_url).project
    fake_azure.fail(status, method=method, path=path)

    with pytest.raises(SubmitError) as error:
        submit_job(project, "train", CompileOptions(), credential=credential)

    message = str(error.value)
    assert expected in message
    assert "\n" not in message
    if status >= 500:
        assert "retry later" in message


def test_unknown_workspace_names_it_and_the_config_key(fake_azure, azure_project, credential):
    project = azure_project(fake_azure.base_url).project

    with pytest.raises(SubmitError) as error:
        submit_job(project, "train", CompileOptions(), credential=credential, workspace="missing")

    assert str(error.value).startswith(
        "workspace ws-nowhere not found in resource group rg-demo (subscription "
        "00000000-0000-0000-0000-000000000000): check workspace.missing in azureml.yml"
    )
    assert fake_azure.requests_to("PUT", ".") == []


@pytest.mark.slow
def test_unreachable_azure_says_so(trust_fake, azure_project, credential):
    project = azure_project("https://127.0.0.1:9/").project

    with pytest.raises(SubmitError) as error:
        submit_job(project, "train", CompileOptions(), credential=credential)

    assert "Azure Resource Manager (127.0.0.1:9) cannot be reached" in str(error.value)
    assert "workspace.__default__.cloud" in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("statuses", "final", "ok"),
    [(["Running", "Completed"], "Completed", True), (["Running", "Failed"], "Failed", False)],
)
def test_wait_follows_the_job_to_its_end(
    fake_azure, azure_project, credential, statuses, final, ok
):
    project = azure_project(fake_azure.base_url).project
    fake_azure.job_statuses = statuses
    lines: list[str] = []

    report = submit_jobs(
        project,
        ["train"],
        CompileOptions(),
        credential=credential,
        wait=True,
        poll_interval=0.01,
        echo=lines.append,
    )

    submission = report.results[0]
    assert submission.status == final
    assert report.ok is ok
    assert [line.split(": ")[1].split(" ")[0] for line in lines if line.startswith("  ")] == [
        "Running",
        final,
    ]
    if not ok:
        with pytest.raises(SubmitError, match=f"ended {final}"):
            report.raise_for_failures()


@pytest.mark.slow
def test_several_jobs_are_each_reported_and_a_failure_is_summarised(
    fake_azure, azure_project, credential
):
    jobs = {"good": {}, "bad": {"workspace": "missing"}, "also_good": {}}
    project = azure_project(fake_azure.base_url, jobs).project

    report = submit_jobs(
        project, ["good", "bad", "also_good"], CompileOptions(), credential=credential
    )

    assert [s.job_name for s in report.results] == ["good", "bad", "also_good"]
    assert [s.ok for s in report.results] == [True, False, True]
    assert len(fake_azure.jobs()) == 2
    with pytest.raises(SubmitError) as error:
        report.raise_for_failures()
    summary = str(error.value)
    assert summary.startswith("1 of 3 job(s) failed:")
    assert "  - bad: workspace ws-nowhere not found" in summary


@pytest.mark.slow
def test_on_job_scheduled_is_called_with_the_created_job(fake_azure, azure_project, credential):
    hook = "CALLS = []\n\n\ndef notify(job):\n    CALLS.append(job)\n"
    created = azure_project(fake_azure.base_url, extra_files={"src/notify_hook.py": hook})

    submission = submit_job(
        created.project,
        "train",
        CompileOptions(),
        credential=credential,
        on_job_scheduled="notify_hook:notify",
    )

    import notify_hook

    assert [job.name for job in notify_hook.CALLS] == [submission.run_name]
    assert notify_hook.CALLS[0].experiment_name == "demo"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("no_such_module_here:notify", "cannot import module 'no_such_module_here'"),
        ("json:no_such_function", "module 'json' has no 'no_such_function'"),
        ("json", "is not `module:function`"),
    ],
)
def test_on_job_scheduled_that_cannot_be_loaded_stops_before_anything_is_sent(
    fake_azure, azure_project, credential, reference, expected
):
    project = azure_project(fake_azure.base_url).project

    with pytest.raises(SubmitError, match=expected):
        submit_jobs(
            project, ["train"], CompileOptions(), credential=credential, on_job_scheduled=reference
        )

    assert fake_azure.requests == []


def test_local_environment_is_refused_because_conf_local_is_never_uploaded(
    fake_azure, azure_project, credential
):
    project = azure_project(fake_azure.base_url).project

    with pytest.raises(SubmitError, match="conf/local is never uploaded"):
        submit_jobs(project, ["train"], CompileOptions(env="local"), credential=credential)

    assert fake_azure.requests == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            r"/computes/gpu-cluster$",
            "jobs.train.compute: (ResourceNotFound) Compute gpu-cluster not found (value "
            "azureml:gpu-cluster). Check the names azureml.yml refers to",
        ),
        (
            r"/environments/kedro-env/versions$",
            "Azure ML found no such resource while creating the pipeline job of 'train'",
        ),
    ],
)
def test_missing_cluster_or_environment_is_named(
    fake_azure, azure_project, credential, path, expected
):
    project = azure_project(fake_azure.base_url).project
    message = "Compute gpu-cluster not found" if "computes" in path else "No environment kedro-env"
    fake_azure.fail(404, method="GET", path=path, message=message)

    with pytest.raises(SubmitError) as error:
        submit_job(project, "train", CompileOptions(), credential=credential)

    assert expected in str(error.value)
    assert "\n" not in str(error.value)
    assert fake_azure.requests_to("PUT", r"/jobs/") == []


@pytest.mark.slow
def test_run_params_set_the_submitted_jobs_input_values(fake_azure, azure_project, credential):
    from kedro_azureml_deploy.project import open_project

    created = azure_project(fake_azure.base_url)
    project = open_project(created.files.path, env="base", params={"seed": 7})

    submit_job(project, "train", CompileOptions(params={"seed": 7}), credential=credential)

    job = fake_azure.bodies("PUT", r"/jobs/[^/]+$")[-1]["properties"]
    assert job["inputs"] == {"seed": {"jobInputType": "literal", "value": "7"}}
    binding = job["jobs"]["preprocess"]["inputs"]["seed"]
    assert binding == {"job_input_type": "literal", "value": "${{parent.inputs.seed}}"}
    assert (
        "--param-input params:seed integer ${{inputs.seed}}"
        in sent_steps(fake_azure)["preprocess"]["command"]
    )
    assert all("inputs" not in step or "seed" not in step["inputs"]
               for name, step in job["jobs"].items() if name != "preprocess")  # fmt: skip
