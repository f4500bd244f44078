"""Kedro projects whose catalog credentials come from ``${azureml.keyvault:...}`` (standard library
only: the runtime's isolated suite uses it too)."""

from __future__ import annotations

from pathlib import Path

from project_factory import KedroProject, NodeSpec

#: settings.py as the template writes it: the resolver registered with the config loader.
SETTINGS = """\
from kedro_azureml_runtime.key_vault import KEY_VAULT_RESOLVER, key_vault_secret

CONFIG_LOADER_ARGS = {"custom_resolvers": {KEY_VAULT_RESOLVER: key_vault_secret}}
"""

#: A dataset that loads the credentials Kedro gave it, so a node can pass them on to a mount.
CREDENTIALS_DATASET = """\
from kedro.io import AbstractDataset


class CredentialsDataset(AbstractDataset):
    def __init__(self, credentials=None):
        self._credentials = dict(credentials or {})

    def load(self):
        return self._credentials

    def save(self, data):
        raise NotImplementedError

    def _describe(self):
        return {}
"""


def secret_project(path: Path, reference: str, *, package: str = "vault_demo") -> KedroProject:
    """A project with node ``copy_credentials``: it reads dataset ``warehouse``, whose inline
    credentials are ``{"password": <reference>}``, and writes them to output ``copied``."""
    return KedroProject(
        path,
        package=package,
        nodes=[NodeSpec("copy_credentials", "identity", ["warehouse"], ["copied"])],
        catalog={
            "warehouse": {
                "type": f"{package}.credentials_dataset.CredentialsDataset",
                "credentials": {"password": reference},
            }
        },
        settings=SETTINGS,
        extra_files={f"src/{package}/credentials_dataset.py": CREDENTIALS_DATASET},
    ).write()
