"""``jobs.<job>.identity``: compiled onto the job and each step, loaded back by azure-ai-ml."""

from __future__ import annotations

import io

import pytest
from azure.ai.ml.entities import ManagedIdentityConfiguration, UserIdentityConfiguration

from kedro_azureml_deploy.config import parse_config
from kedro_azureml_deploy.errors import ConfigError

from .conftest import BASE_CONFIG, catalog_of, chain_pipeline

CLIENT_ID = "00000000-0000-0000-0000-0000000000c1"


def loaded(compiled, tmp_path):
    from azure.ai.ml import load_job

    job = load_job(io.StringIO(compiled.to_yaml()), relative_origin=str(tmp_path))
    result = job._validate()
    assert result.passed, result.error_messages
    return job


@pytest.mark.parametrize(
    ("identity", "kind"),
    [("managed", ManagedIdentityConfiguration), ("user_identity", UserIdentityConfiguration)],
)
def test_identity_is_compiled_onto_the_job_and_every_step(
    compile_pipeline, tmp_path, identity, kind
):
    compiled = compile_pipeline(chain_pipeline(2), catalog_of({}), job={"identity": identity})

    assert compiled.spec["identity"] == {"type": identity}
    steps = compiled.spec["jobs"]
    assert {step["identity"]["type"] for step in steps.values()} == {identity}
    assert not any("AZURE_CLIENT_ID" in step["environment_variables"] for step in steps.values())
    job = loaded(compiled, tmp_path)
    assert isinstance(job.identity, kind)
    assert all(isinstance(step.identity, kind) for step in job.jobs.values())


def test_a_user_assigned_identity_reaches_each_step_as_azure_client_id(compile_pipeline, tmp_path):
    compiled = compile_pipeline(
        chain_pipeline(2), catalog_of({}), job={"identity": {"client_id": CLIENT_ID.upper()}}
    )

    expected = {"type": "managed", "client_id": CLIENT_ID}
    assert compiled.spec["identity"] == expected
    for step in compiled.spec["jobs"].values():
        assert step["identity"] == expected
        assert step["environment_variables"]["AZURE_CLIENT_ID"] == CLIENT_ID
    job = loaded(compiled, tmp_path)
    assert job.identity.client_id == CLIENT_ID
    assert job.jobs["node_1"].identity.client_id == CLIENT_ID


def test_no_identity_keeps_azure_ml_default(compile_pipeline):
    compiled = compile_pipeline(chain_pipeline(2), catalog_of({}))
    assert "identity" not in compiled.spec
    assert not any("identity" in step for step in compiled.spec["jobs"].values())


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ("system", "expected `managed` or `user_identity`"),
        (3, "expected `managed`, `user_identity`, or a mapping with `client_id`"),
        ({"client_id": "not-a-guid"}, "`not-a-guid` is not a client id"),
        ({"client_id": CLIENT_ID, "object_id": CLIENT_ID}, "object_id"),
    ],
)
def test_identity_values_are_checked(identity, expected):
    data = {**BASE_CONFIG, "jobs": {"train": {"identity": identity}}}
    with pytest.raises(ConfigError, match=expected) as raised:
        parse_config(data)
    assert "jobs.train.identity" in str(raised.value)
