"""The plans in ``docs/how-to/group-nodes-into-steps.md`` are those of the template's example
pipeline: the pipeline is loaded from the template's own ``pipeline.py``, compiled with the
template's default compute and environment, and printed as ``kedro azureml plan`` prints it."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from kedro.pipeline import Pipeline

from kedro_azureml_deploy.compiler.plan import plan_of, plan_table

from .conftest import catalog_of, pipeline_dataset

ROOT = Path(__file__).parents[4]
PAGE = ROOT / "docs" / "how-to" / "group-nodes-into-steps.md"
EXAMPLE = (
    ROOT
    / "templates/kedro-azureml-project/project/src/{{ package_name }}/pipelines"
    / "{% if example_pipeline %}example{% endif %}"
)
#: The template's catalog: every dataset of the example is an AzureMLPipelineDataset.
DATASETS = ("points", "train_points", "test_points", "line", "metrics")


def example_pipeline() -> Pipeline:
    spec = importlib.util.spec_from_file_location(
        "template_example", EXAMPLE / "__init__.py", submodule_search_locations=[str(EXAMPLE)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules["template_example"] = package
    spec.loader.exec_module(package)
    pipeline_module = importlib.import_module("template_example.pipeline")
    return pipeline_module.create_pipeline()


def documented_plans() -> dict[str, str]:
    """Each ``text`` block of the page, by the grouping its first line names."""
    blocks = re.findall(r"```text\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    return {re.search(r"grouping '([^']+)'", block)[1]: block for block in blocks}


@pytest.mark.parametrize(
    ("grouping", "label"),
    [
        ("none", "none"),
        ("chains", "chains"),
        ("tags", "tags"),
        ({"by": "tags", "ungrouped": "chains"}, "tags+chains"),
    ],
)
def test_the_page_shows_the_plan_of_the_template_pipeline(compile_pipeline, grouping, label):
    pipeline = example_pipeline()
    if label.startswith("tags"):  # as the page tags them
        pipeline = pipeline.only_nodes("make_points", "split_points") + pipeline.only_nodes(
            "fit_line", "evaluate_line"
        ).tag(["step.model"])
    catalog = catalog_of(
        {name: pipeline_dataset(f"{name}.pickle") for name in DATASETS},
        {
            "example.n_points": 10,
            "example.slope": 1,
            "example.intercept": 0,
            "example.noise": 0,
            "example.seed": 1,
            "example.test_fraction": 0.5,
        },
    )
    compiled = compile_pipeline(
        pipeline,
        catalog,
        job={"grouping": grouping},
        sections={"environment": {"__default__": {"name": "my-project-env@latest"}}},
    )

    shown = plan_table(plan_of(compiled)).replace("Job 'train'", "Job 'default'", 1)
    assert shown == documented_plans()[label]
