"""Secrets reach steps through the environment, never through an uploaded file.

Steps get neither ``conf/local`` nor any ``credentials*.yml`` (never uploaded, never built into
the image), so a catalog entry that names credentials from such a file is reported before any
work, with the fix; the documented fix, inline credentials read from environment variables,
runs in the local replay without the secret appearing in the compiled job or the snapshot.
"""

from __future__ import annotations

import hashlib
import json
import re

from project_factory import KedroProject, NodeSpec, azureml_yml, pipeline_dataset

SECRET = "s3cr3t-t0ken-value"
TOKEN_DATASET = '''

from kedro.io import AbstractDataset


class TokenDataset(AbstractDataset):
    """Loads the token of its credentials: what a database or API dataset would connect with."""

    def __init__(self, credentials=None):
        self._credentials = credentials or {}

    def load(self):
        return self._credentials["token"]

    def save(self, data):
        raise NotImplementedError

    def _describe(self):
        return {}


def check_token(token):
    import hashlib

    return {"token_sha256": hashlib.sha256(token.encode()).hexdigest()}
'''
#: settings.py of the fix: ``oc.env`` may be used in the catalog, not only in credentials files.
SETTINGS_WITH_OC_ENV = (
    "from omegaconf.resolvers import oc\n\n"
    'CONFIG_LOADER_ARGS = {"custom_resolvers": {"oc.env": oc.env}}\n'
)


def warehouse_project(make_project, *, credentials: object, settings: str = "") -> KedroProject:
    return make_project(
        nodes=[NodeSpec("check", "check_token", ["warehouse"], ["token_check"])],
        catalog={
            "warehouse": {
                "type": "demo_project.pipelines.nodes.TokenDataset",
                "credentials": credentials,
            },
            "token_check": pipeline_dataset("token_check.json", "json.JSONDataset"),
        },
        extra_functions=TOKEN_DATASET,
        settings=settings,
        extra_files={
            "conf/base/azureml.yml": azureml_yml({"default": {}}),
            "conf/local/credentials.yml": f"warehouse:\n  token: {SECRET}\n",
        },
    )


def test_credentials_from_a_file_are_reported_before_any_work(make_project):
    project = warehouse_project(make_project, credentials="warehouse")
    assert project.kedro("run").returncode == 0  # locally, conf/local provides them

    for command in (("doctor",), ("compile",), ("run", "--local")):
        result = project.kedro("azureml", *command)

        assert result.returncode == 1, command
        assert "uses credentials 'warehouse', which conf/base does not define" in result.stderr
        assert "environment variables, Azure Key Vault or the compute's managed identity" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
    assert not (project.path / ".azureml-local").exists()


def test_credentials_in_a_shipped_environment_are_still_reported(make_project):
    project = warehouse_project(make_project, credentials="warehouse")
    (project.path / "conf/base/credentials.yml").write_text(f"warehouse:\n  token: {SECRET}\n")

    result = project.kedro("azureml", "doctor")

    assert result.returncode == 1
    assert "error: warehouse: it uses credentials 'warehouse' from a credentials file" in (
        result.stdout
    )
    assert "schedule" not in result.stderr


def test_credentials_from_environment_variables_reach_the_step(make_project):
    project = warehouse_project(
        make_project,
        credentials={"token": "${oc.env:WAREHOUSE_TOKEN}"},
        settings=SETTINGS_WITH_OC_ENV,
    )
    environment = {"WAREHOUSE_TOKEN": SECRET}

    assert project.kedro("azureml", "doctor", "--strict", env=environment).returncode == 0
    compiled = project.kedro("azureml", "compile", env=environment, check=True)
    replay = project.kedro("azureml", "run", "--local", env=environment)

    assert re.search(r"Run \S+ succeeded", replay.stdout), replay.stdout + replay.stderr
    (run,) = [p for p in (project.path / ".azureml-local" / "runs").iterdir() if p.is_dir()]
    (output,) = (run / "check" / "outputs").rglob("token_check.json")
    assert json.loads(output.read_text()) == {
        "token_sha256": hashlib.sha256(SECRET.encode()).hexdigest()
    }
    assert ".azureml-local/compiled/default.yml" in compiled.stdout
    assert SECRET not in (project.path / ".azureml-local/compiled/default.yml").read_text()
    snapshot = run / "code-snapshot"
    assert not list(snapshot.rglob("credentials*"))
    assert not [p for p in snapshot.rglob("*") if p.is_file() and SECRET in p.read_text()]
