"""``kedro azureml doctor`` and ``compile`` read no Key Vault secret (they inspect the catalog,
never load data: no credential, no network); the local replay's steps read them, each in its own
process, as steps on Azure ML do."""

from __future__ import annotations

import pickle
import re

from key_vault_projects import secret_project

from project_factory import azureml_yml

SECRET = "s3cr3t-from-the-vault"


def test_compile_reads_no_secret_and_the_replayed_steps_do(tmp_path, vault, key_vault, step_env):
    vault.set_secret("fakevault", "db-password", SECRET)
    project = secret_project(tmp_path / "p", "${azureml.keyvault:fakevault,db-password}")
    (project.path / "conf/base/azureml.yml").write_text(azureml_yml({"default": {}}))
    catalog = project.path / "conf/base/catalog.yml"
    catalog.write_text(
        catalog.read_text()
        + '\n"copied": {"type": "kedro_azureml_runtime.datasets.AzureMLPipelineDataset", '
        '"dataset": {"type": "pickle.PickleDataset", "filepath": "copied.pkl"}}\n'
    )

    doctor = project.kedro("azureml", "doctor", env=step_env)
    compiled = project.kedro("azureml", "compile", env=step_env)

    assert compiled.returncode == 0, compiled.stderr
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert vault.secret_requests == [] and vault.token_requests == []
    assert SECRET not in (project.path / ".azureml-local/compiled/default.yml").read_text()

    replay = project.kedro("azureml", "run", "--local", env=step_env)

    assert re.search(r"Run \S+ succeeded", replay.stdout), replay.stdout + replay.stderr
    (run,) = [p for p in (project.path / ".azureml-local" / "runs").iterdir() if p.is_dir()]
    (output,) = run.rglob("copied.pkl")
    assert pickle.loads(output.read_bytes()) == {"password": SECRET}
    assert [authorized for *_, authorized in vault.secret_requests] == [False, True]
    assert SECRET not in replay.stdout + replay.stderr
