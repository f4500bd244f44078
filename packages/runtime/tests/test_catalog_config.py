"""A step reads the catalog config Kedro's ``OmegaConfigLoader`` gives, value for value and error
for error, with or without OmegaConf's round trip (``catalog_config``)."""

from __future__ import annotations

import textwrap

import pytest
from kedro.config import OmegaConfigLoader

from kedro_azureml_runtime.catalog_config import plain_catalog_config, with_plain_catalog

ENTRY = '{"type": "kedro_azureml_runtime.datasets.AzureMLPipelineDataset", "dataset": {"type": "pickle.PickleDataset", "filepath": "d.pkl"}}'

CASES = {  # name: (files, fast path taken, loader arguments)
    "many entries": (
        {"base/catalog.yml": "\n".join(f'"d_{i}": {ENTRY}' for i in range(50))},
        True,
        {},
    ),
    "env overrides base": (
        {
            "base/catalog.yml": "a: {type: x, filepath: a}\nb: {type: y}\n",
            "local/catalog.yml": "a: {type: z}\n",
        },
        True,
        {},
    ),
    "soft merge overrides": (
        {"base/catalog.yml": "a: {type: x, filepath: a}\n", "local/catalog.yml": "a: {type: z}\n"},
        False,
        {"merge_strategy": {"catalog": "soft"}},
    ),
    "soft merge, no overlap": (
        {"base/catalog.yml": "a: {type: x}\n", "local/catalog.yml": "c: {type: z}\n"},
        False,
        {"merge_strategy": {"catalog": "soft"}},
    ),
    "destructive, in capitals": (
        {"base/catalog.yml": "a: {type: x, f: a}\n", "local/catalog.yml": "a: {type: z}\n"},
        True,
        {"merge_strategy": {"catalog": "DESTRUCTIVE"}},
    ),
    "no such strategy": (
        {"base/catalog.yml": "a: {type: x}\n", "local/catalog.yml": "c: {type: z}\n"},
        False,
        {"merge_strategy": {"catalog": "deep"}},
    ),
    "strategy None": (
        {"base/catalog.yml": "a: {type: x}\n", "local/catalog.yml": "c: {type: z}\n"},
        False,
        {"merge_strategy": {"catalog": None}},
    ),
    "empty env file": ({"base/catalog.yml": "a: {type: x}\n", "local/catalog.yml": ""}, True, {}),
    "interpolation": (
        {"base/catalog.yml": "_p: data\na: {type: x, filepath: '${_p}/a'}\n"},
        False,
        {},
    ),
    "globals": (
        {
            "base/globals.yml": "root: r\n",
            "base/catalog.yml": "a: {type: x, filepath: '${globals:root}/a'}\n",
        },
        False,
        {},
    ),
    "runtime_params": (
        {"base/catalog.yml": "a: {type: x, filepath: '${runtime_params:p, d}'}\n"},
        False,
        {"runtime_params": {"p": "q"}},
    ),
    "escaped interpolation": (
        {"base/catalog.yml": 'a: {type: x, filepath: "\\x24{oc.env:HOME}"}\n'},
        None,
        {},
    ),
    "missing value": ({"base/catalog.yml": "a: {type: x, filepath: ???}\n"}, None, {}),
    "anchors and merge keys": (
        {
            "base/catalog.yml": "_csv: &csv {type: pandas.CSVDataset, load_args: {sep: ','}}\na:\n  <<: *csv\n  filepath: a.csv\n"
        },
        True,
        {},
    ),
    "scalars": (
        {
            "base/catalog.yml": "a: {type: x, n: 1e3, f: 1.5, b: true, z: null, d: 2024-01-01, l: [1, [2, {x: y}]], s: café, o: 0o17, inf: .inf}\n"
        },
        True,
        {},
    ),
    "key in two files": (
        {"base/catalog.yml": "a: {type: x}\n", "base/catalog_2.yml": "a: {type: y}\n"},
        None,
        {},
    ),
    "private key in two files": (
        {
            "base/catalog.yml": "_a: 1\na: {type: x}\n",
            "base/catalog_2.yml": "_a: 2\nb: {type: y}\n",
        },
        True,
        {},
    ),
    "files in folders": (
        {
            "base/catalog.yml": "a: {type: x}\n",
            "base/catalog/sub.yml": "b: {type: y}\n",
            "base/sub/catalog.json": '{"c": {"type": "y"}}',
        },
        True,
        {},
    ),
    "hidden file": (
        {"base/catalog.yml": "a: {type: x}\n", "base/.hidden/catalog.yml": "b: {type: y}\n"},
        True,
        {},
    ),
    "key twice in a file": ({"base/catalog.yml": "a: {type: x}\na: {type: y}\n"}, None, {}),
    "invalid YAML": ({"base/catalog.yml": "a: {type: x\n"}, None, {}),
    "integer key": ({"base/catalog.yml": "a: {type: x, load_args: {1: one}}\n"}, False, {}),
    "binary value": ({"base/catalog.yml": "a: {type: x, b: !!binary aGVsbG8=}\n"}, False, {}),
    "a list": ({"base/catalog.yml": "- a\n"}, None, {}),
    "no catalog": ({"base/parameters.yml": "a: 1\n"}, None, {}),
    "byte-order mark": ({"base/catalog.yml": "\ufeffa: {type: x}\n"}, True, {}),
    "factory pattern": (
        {"base/catalog.yml": '"{name}": {type: x, filepath: "{name}.pkl"}\n'},
        True,
        {},
    ),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", CASES)
def test_the_catalog_is_what_kedro_reads(tmp_path, name):
    files, fast, arguments = CASES[name]
    for folder in ("base", "local"):
        (tmp_path / folder).mkdir()
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(textwrap.dedent(text), encoding="utf-8")

    def read(loader_class: type) -> tuple[str, object]:
        loader = loader_class(str(tmp_path), base_env="base", default_run_env="local", **arguments)
        try:
            return "config", loader["catalog"]
        except Exception as exc:  # the same error, said the same way
            return type(exc).__name__, str(exc)

    assert read(with_plain_catalog(OmegaConfigLoader)) == read(OmegaConfigLoader)
    loader = OmegaConfigLoader(str(tmp_path), base_env="base", default_run_env="local", **arguments)
    if fast is not None:
        assert (plain_catalog_config(loader) is not None) is fast


def test_a_loader_that_reads_config_its_own_way_is_left_alone():
    class Custom(OmegaConfigLoader):
        def __getitem__(self, key):
            return super().__getitem__(key)

    class DeepMerging(OmegaConfigLoader):
        @staticmethod
        def _destructive_merge(config, env_config, env_path):
            return {**config, **env_config}

    class WithResolvers(OmegaConfigLoader):
        """Only its constructor differs: it reads the catalog as Kedro does."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)

    assert with_plain_catalog(Custom) is Custom
    assert with_plain_catalog(DeepMerging) is DeepMerging
    assert with_plain_catalog(WithResolvers) is not WithResolvers
    assert with_plain_catalog(OmegaConfigLoader).__name__ == "OmegaConfigLoader"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_catalog_that_is_not_utf_8_fails_as_in_kedro(tmp_path):
    for folder in ("base", "local"):
        (tmp_path / folder).mkdir()
    (tmp_path / "base" / "catalog.yml").write_bytes("a: {type: x}\n".encode("utf-16"))

    def error(loader_class: type) -> str:
        loader = loader_class(str(tmp_path), base_env="base", default_run_env="local")
        with pytest.raises(Exception) as raised:
            loader["catalog"]
        return f"{type(raised.value).__name__}: {raised.value}"

    assert error(with_plain_catalog(OmegaConfigLoader)) == error(OmegaConfigLoader)
