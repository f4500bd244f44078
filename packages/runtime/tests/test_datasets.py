"""``AzureMLPipelineDataset``, ``AzureMLAssetDataset`` and the undeclared-intermediate dataset."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.io import DatasetError

from kedro_azureml_runtime.datasets import (
    AzureMLAssetDataset,
    AzureMLIntermediateDataset,
    AzureMLPipelineDataset,
)
from kedro_azureml_runtime.datasets.asset_download import AzureMLAssetDownloader, WorkspaceRef
from kedro_azureml_runtime.errors import AzureMLRuntimeError
from project_factory import NodeSpec, pipeline_dataset

PICKLE = {"type": "pickle.PickleDataset", "filepath": "sub/x.pkl"}


def test_pipeline_dataset_reads_and_writes_root_dir_slash_filepath(tmp_path):
    dataset = AzureMLPipelineDataset(PICKLE, root_dir=str(tmp_path / "data"))
    dataset.save({"a": 1})
    assert (tmp_path / "data" / "sub" / "x.pkl").is_file()
    assert dataset.load() == {"a": 1}
    assert dataset.exists()


def test_mount_moves_reads_and_writes_to_the_mounted_folder(tmp_path):
    dataset = AzureMLPipelineDataset(PICKLE, root_dir=str(tmp_path / "data"))
    dataset.mount(str(tmp_path / "mnt"))
    dataset.save(3)
    assert (tmp_path / "mnt" / "sub" / "x.pkl").is_file()
    assert not (tmp_path / "data").exists()


def test_filepath_arg_selects_the_wrapped_datasets_path_argument(tmp_path):
    config = {
        "type": "partitions.PartitionedDataset",
        "path": "parts",
        "dataset": "pickle.PickleDataset",
    }
    dataset = AzureMLPipelineDataset(config, root_dir=str(tmp_path), filepath_arg="path")
    dataset.save({"p1": 1, "p2": 2})
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == ["p1", "p2"]
    assert {k: load() for k, load in dataset.load().items()} == {"p1": 1, "p2": 2}


def test_missing_filepath_argument_is_a_clear_error():
    with pytest.raises(DatasetError, match=r"has no `path`.*filepath_arg"):
        AzureMLPipelineDataset(
            {"type": "pickle.PickleDataset", "filepath": "x"}, filepath_arg="path"
        )


def test_non_master_process_of_a_distributed_step_saves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    pipeline = AzureMLPipelineDataset(PICKLE, root_dir=str(tmp_path / "a"))
    intermediate = AzureMLIntermediateDataset(str(tmp_path / "b"))
    pipeline.save(1)
    intermediate.save(1)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    monkeypatch.setenv("RANK", "0")
    pipeline.save(1)
    intermediate.save(1)
    assert pipeline.load() == intermediate.load() == 1


def test_intermediate_from_a_step_that_wrote_nothing_says_so(tmp_path):
    with pytest.raises(DatasetError, match="wrote nothing into its output"):
        AzureMLIntermediateDataset(str(tmp_path)).load()


class FolderDownloader:
    """Stands in for Azure ML's data-asset store (not reachable from here): a folder of versions."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.downloads: list[tuple[str, str]] = []

    def latest_version(self, name: str) -> str:
        return max((p.name for p in (self.store / name).iterdir()), key=int)

    def download(self, name: str, version: str, target: Path) -> None:
        self.downloads.append((name, version))
        target.mkdir(parents=True)
        for source in (self.store / name / version).iterdir():
            (target / source.name).write_bytes(source.read_bytes())


def _asset_store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    for version, value in (("1", "one"), ("2", "two")):
        (store / "raw" / version).mkdir(parents=True)
        (store / "raw" / version / "x.pkl").write_bytes(pickle.dumps(value))
    return store


@pytest.mark.parametrize(("version", "expected"), [("1", "one"), (None, "two")])
def test_asset_input_is_downloaded_once_then_read_from_the_local_cache(tmp_path, version, expected):
    downloader = FolderDownloader(_asset_store(tmp_path))
    cache = tmp_path / "data"

    for _ in range(2):
        dataset = AzureMLAssetDataset(
            "raw",
            {"type": "pickle.PickleDataset", "filepath": "x.pkl"},
            root_dir=str(cache),
            azureml_version=version,
        )
        dataset.use_downloader(downloader)
        assert dataset.load() == expected

    resolved = version or "2"
    assert downloader.downloads == [("raw", resolved)]
    assert (cache / "raw" / resolved / "x.pkl").is_file()
    assert not list(cache.glob("raw/*.partial"))


def test_uri_file_asset_is_the_mounted_file_itself_in_a_step(tmp_path):
    (tmp_path / "mounted.pkl").write_bytes(pickle.dumps("m"))
    dataset = AzureMLAssetDataset(
        "raw", {"type": "pickle.PickleDataset", "filepath": "x.pkl"}, azureml_type="uri_file"
    )
    dataset.mount(str(tmp_path / "mounted.pkl"))
    assert dataset.load() == "m"


def test_asset_not_cached_and_without_workspace_says_how_to_get_it(tmp_path):
    dataset = AzureMLAssetDataset(
        "raw",
        {"type": "pickle.PickleDataset", "filepath": "x.pkl"},
        root_dir=str(tmp_path),
        azureml_version="4",
    )
    with pytest.raises(DatasetError, match=r"'raw' \(version 4\) is not in the local cache"):
        dataset.load()


def test_unknown_asset_type_is_refused():
    with pytest.raises(DatasetError, match="uri_folder or uri_file"):
        AzureMLAssetDataset("raw", PICKLE, azureml_type="mltable")


def test_downloading_without_azure_ai_ml_installed_says_what_to_install(tmp_path):
    downloader = AzureMLAssetDownloader(WorkspaceRef("sub", "rg", "ws"))
    with pytest.raises(AzureMLRuntimeError, match="uv add --dev kedro-azureml-deploy"):
        downloader.latest_version("raw")


def test_kedro_run_with_asset_produced_in_the_run_stays_local_and_needs_no_azureml_yml(
    make_project,
):
    asset = {
        "type": "kedro_azureml_runtime.datasets.AzureMLAssetDataset",
        "azureml_dataset": "features",
        "dataset": {"type": "pickle.PickleDataset", "filepath": "features.pkl"},
    }
    project = make_project(
        nodes=[
            NodeSpec("make", "identity", ["params:seed"], ["features"]),
            NodeSpec("use", "add_one", ["features"], ["result"]),
        ],
        catalog={"features": asset, "result": pipeline_dataset("result.pkl")},
    )
    assert not list(project.path.glob("conf/**/azureml*"))

    result = project.kedro("run")

    assert result.returncode == 0, result.stderr
    assert (project.path / "data" / "features" / "local" / "features.pkl").is_file()
    with (project.path / "data" / "result.pkl").open("rb") as stream:
        assert pickle.load(stream) == 2


def test_kedro_run_reading_an_uncached_asset_without_workspace_config_names_the_file(make_project):
    asset = {
        "type": "kedro_azureml_runtime.datasets.AzureMLAssetDataset",
        "azureml_dataset": "raw",
        "dataset": {"type": "pickle.PickleDataset", "filepath": "raw.pkl"},
    }
    project = make_project(
        nodes=[NodeSpec("use", "add_one", ["raw"], ["out"])], catalog={"raw": asset}
    )

    result = project.kedro("run")

    assert result.returncode != 0
    assert "workspace.__default__" in result.stderr and "azureml.yml" in result.stderr


def test_plugin_dataset_paths_are_anchored_at_the_project_whatever_the_working_directory(
    make_project, tmp_path
):
    project = make_project(
        nodes=[NodeSpec("make", "identity", ["params:seed"], ["x"])],
        catalog={"x": pipeline_dataset("nested/x.pkl")},
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "from kedro.framework.startup import bootstrap_project\n"
        "from kedro.framework.session import KedroSession\n"
        f"bootstrap_project({str(project.path)!r})\n"
        f"with KedroSession.create(project_path={str(project.path)!r}) as session:\n"
        "    session.run()\n"
    )

    subprocess.run([sys.executable, "-c", script], cwd=elsewhere, check=True, capture_output=True)

    assert (project.path / "data" / "nested" / "x.pkl").is_file()
    assert not (elsewhere / "data").exists()


VERSIONED_MODEL = {
    "type": "kedro_azureml_runtime.datasets.AzureMLPipelineDataset",
    "versioned": True,
    "dataset": {"type": "pickle.PickleDataset", "filepath": "model.pkl"},
}


def test_versioned_pipeline_dataset_saves_versions_and_loads_the_one_asked_for(make_project):
    project = make_project(
        nodes=[
            NodeSpec("train", "identity", ["params:seed"], ["model"]),
            NodeSpec("score", "add_one", ["model"], ["score"]),
        ],
        catalog={"model": VERSIONED_MODEL, "score": pipeline_dataset("score.pkl")},
    )
    project.kedro("run", "--params", "seed=10", check=True)
    (first,) = [p.name for p in (project.path / "data" / "model.pkl").iterdir()]
    project.kedro("run", "--params", "seed=20", check=True)
    assert len(list((project.path / "data" / "model.pkl").iterdir())) == 2

    project.kedro("run", "--nodes", "score", "--load-versions", f"model:{first}", check=True)

    with (project.path / "data" / "score.pkl").open("rb") as stream:
        assert pickle.load(stream) == 11


def test_versioned_dataset_crosses_steps_under_its_mount(make_project, mounts):
    project = make_project(
        nodes=[
            NodeSpec("train", "identity", ["params:seed"], ["model"]),
            NodeSpec("score", "add_one", ["model"], ["score"]),
        ],
        catalog={"model": VERSIONED_MODEL},
    )
    project.kedro(
        "azureml", "execute", "-n", "train", "--az-output", "model", str(mounts / "m"), check=True
    )
    (version,) = (mounts / "m" / "model.pkl").iterdir()
    assert (version / "model.pkl").is_file()

    project.kedro(
        "azureml",
        "execute",
        "-n",
        "score",
        "--az-input",
        "model",
        str(mounts / "m"),
        "--az-output",
        "score",
        str(mounts / "s"),
        check=True,
    )
    with (mounts / "s" / "data.pickle").open("rb") as stream:
        assert pickle.load(stream) == 2


def test_versioning_a_dataset_that_cannot_be_versioned_names_it_and_the_fix(tmp_path):
    from kedro.io import Version

    dataset = AzureMLPipelineDataset(
        {
            "type": "partitions.PartitionedDataset",
            "path": "parts",
            "dataset": "pickle.PickleDataset",
        },
        root_dir=str(tmp_path),
        filepath_arg="path",
        version=Version(None, None),
    )
    with pytest.raises(
        DatasetError,
        match=r"PartitionedDataset .*parts.* cannot be versioned: remove `versioned: true`",
    ):
        dataset.load()
