"""``kedro azureml compile`` reads the catalog configuration once, and does not import pandas for
the project's parameters, in real Kedro projects."""

from __future__ import annotations

import json
import textwrap

from project_factory import azureml_yml, chain

# settings.py: a config loader that records each time it reads the catalog files, and, when the
# process ends, whether pandas was imported.
SETTINGS = textwrap.dedent(
    """\
    import atexit
    import json
    import os
    import sys

    from kedro.config import OmegaConfigLoader

    LOG = os.environ["LOADING_LOG"]


    def _record(**what):
        with open(LOG, "a") as stream:
            stream.write(json.dumps(what) + "\\n")


    class CountingConfigLoader(OmegaConfigLoader):
        def __getitem__(self, key):
            if key == "catalog" and key not in self:
                _record(read="catalog")
            return super().__getitem__(key)


    atexit.register(lambda: _record(pandas="pandas" in sys.modules))
    CONFIG_LOADER_CLASS = CountingConfigLoader
    """
)


def test_compile_reads_the_catalog_once_and_leaves_pandas_unimported(make_project, tmp_path):
    nodes, catalog = chain(20, dataset_type="pickle.PickleDataset")
    project = make_project(
        nodes=nodes,
        catalog=catalog,
        parameters={"seed": 1, "model": {"layers": [1, 2]}},
        settings=SETTINGS,
        extra_files={"conf/base/azureml.yml": azureml_yml({"train": {}})},
    )
    log = tmp_path / "loading.jsonl"

    project.kedro("azureml", "compile", "-j", "train", env={"LOADING_LOG": str(log)}, check=True)

    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records.count({"read": "catalog"}) == 1
    # pandas is installed here (the workspace holds it), and nothing of this project needs it.
    assert records[-1] == {"pandas": False}
    assert (project.path / ".azureml-local/compiled/train.yml").is_file()
