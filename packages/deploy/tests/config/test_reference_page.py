"""``docs/reference/config.md``: its generated reference is current and its examples are valid."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from kedro_azureml_deploy.config import config_json_schema, parse_config

ROOT = Path(__file__).resolve().parents[4]
PAGE = ROOT / "docs" / "reference" / "config.md"

pytestmark = pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_config_reference", ROOT / "docs" / "gen_config_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml_blocks(title: str) -> list[str]:
    return re.findall(rf'```yaml title="{re.escape(title)}"\n(.*?)```', PAGE.read_text(), re.S)


def test_reference_is_generated_from_the_current_models(generator):
    generated = generator.page_with_reference(
        PAGE.read_text(), generator.reference_markdown(config_json_schema())
    )

    assert PAGE.read_text() == generated, "run `uv run python docs/gen_config_reference.py`"


def test_reference_has_a_section_for_every_model(generator):
    assert set(generator.SECTIONS) == {"AzureMLConfig", *config_json_schema()["$defs"]}


def test_complete_example_of_the_page_is_valid(read_yaml):
    example = _yaml_blocks("conf/base/azureml.yml")[0]

    config = parse_config(read_yaml(example))

    assert config.schedules["weekday-mornings"].cron.time_zone == "Romance Standard Time"


def test_environment_example_of_the_page_overrides_what_it_says(conf, load):
    (conf / "base" / "azureml.yml").write_text(_yaml_blocks("conf/base/azureml.yml")[0])
    (conf / "prod").mkdir()
    (conf / "prod" / "azureml.yml").write_text(_yaml_blocks("conf/prod/azureml.yml")[0])

    prod = load(env="prod")

    assert prod.workspace["__default__"].name == "ml-workspace-prod"
    assert prod.jobs["train"].experiment_name == "train-models-prod"
    assert prod.jobs["train"].timeout == 7200
