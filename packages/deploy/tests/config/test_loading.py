"""Loading azureml.yml through a real Kedro config loader: environments, interpolation, errors."""

from __future__ import annotations

import pytest

from kedro_azureml_deploy.config import AZUREML_CONFIG_KEY, ConfigError, load_config, parse_config

pytestmark = pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")

PROD_OVERRIDE = """\
workspace:
  __default__:
    name: ml-workspace-prod
jobs:
  train:
    experiment_name: train-prod
"""


def test_environment_overrides_the_base_key_by_key(conf, load, train_job_yaml):
    (conf / "base" / "azureml.yml").write_text(
        train_job_yaml("experiment_name: train-dev", "retries: 2")
    )
    (conf / "prod").mkdir()
    (conf / "prod" / "azureml.yml").write_text(PROD_OVERRIDE)

    prod = load(env="prod")
    local = load()

    assert prod.jobs["train"].experiment_name == "train-prod"
    assert prod.jobs["train"].retries == 2
    assert prod.workspace["__default__"].name == "ml-workspace-prod"
    assert prod.workspace["__default__"].resource_group == "ml-rg"
    assert local.jobs["train"].experiment_name == "train-dev"
    assert local.workspace["__default__"].name == "ml-workspace"


def test_a_project_can_choose_whole_section_overrides(conf, load, minimal_yaml):
    (conf / "base" / "azureml.yml").write_text(minimal_yaml)
    (conf / "prod").mkdir()
    (conf / "prod" / "azureml.yml").write_text(PROD_OVERRIDE)

    with pytest.raises(ConfigError) as raised:
        load(env="prod", merge_strategy={"azureml": "destructive"})

    assert "conf/prod/azureml.yml: workspace.__default__.subscription_id: required key" in str(
        raised.value
    )


def test_interpolation_of_underscore_keys_resolves_and_the_keys_are_dropped(
    conf, load, train_job_yaml
):
    (conf / "base" / "azureml.yml").write_text(
        train_job_yaml(
            "experiment_name: ${_team}-train",
            "tags: {team: '${_team}'}",
            before="_team: forecasting\n",
        )
    )

    job = load().jobs["train"]

    assert job.experiment_name == "forecasting-train"
    assert job.tags == {"team": "forecasting"}


def test_runtime_params_resolve_in_azureml_yml(conf, load, train_job_yaml):
    (conf / "base" / "azureml.yml").write_text(
        train_job_yaml("experiment_name: ${runtime_params:experiment, default-experiment}")
    )

    assert load().jobs["train"].experiment_name == "default-experiment"
    assert (
        load(runtime_params={"experiment": "from-cli"}).jobs["train"].experiment_name == "from-cli"
    )


def test_files_in_an_azureml_folder_are_read_too(conf, load, minimal_yaml):
    head, _, jobs = minimal_yaml.partition("jobs:\n")
    (conf / "base" / "azureml.yml").write_text(head)
    (conf / "base" / "azureml").mkdir()
    (conf / "base" / "azureml" / "jobs.yml").write_text("jobs:\n" + jobs)

    assert list(load().jobs) == ["train"]


def test_a_problem_in_an_environment_file_names_that_file(conf, load, minimal_yaml):
    (conf / "base" / "azureml.yml").write_text(minimal_yaml)
    (conf / "local" / "azureml.yml").write_text("jobs:\n  train:\n    retries: many\n")

    with pytest.raises(ConfigError) as raised:
        load()

    assert str(raised.value) == (
        "conf/local/azureml.yml: jobs.train.retries: expected an integer, got 'many'"
    )


def test_a_missing_key_names_every_file_that_could_hold_it(conf, load, minimal_yaml):
    (conf / "base" / "azureml.yml").write_text(minimal_yaml.replace("    name: ml-workspace\n", ""))
    (conf / "local" / "azureml.yml").write_text(
        "workspace:\n  __default__:\n    resource_group: x\n"
    )

    with pytest.raises(ConfigError) as raised:
        load()

    assert str(raised.value) == (
        "conf/base/azureml.yml, conf/local/azureml.yml: workspace.__default__.name: required key "
        "`name` is missing; add it under `workspace.__default__`"
    )


def test_every_problem_gets_its_own_line(conf, load, train_job_yaml):
    (conf / "base" / "azureml.yml").write_text(
        train_job_yaml("retries: 11", "timeout: soon", "compute: gpu")
    )

    with pytest.raises(ConfigError) as raised:
        load()

    assert str(raised.value).splitlines() == [
        "conf/base/azureml.yml: jobs.train.timeout: `soon` is not a duration: give seconds "
        "(`3600`) or a duration such as `90s`, `30m`, `2h` or `1h30m`",
        "conf/base/azureml.yml: jobs.train.retries: expected a number <= 10, got 11",
    ]


def test_an_unresolvable_interpolation_names_the_file_and_key(conf, load, train_job_yaml):
    (conf / "base" / "azureml.yml").write_text(train_job_yaml("experiment_name: ${_nope}"))

    with pytest.raises(ConfigError) as raised:
        load()

    assert str(raised.value) == (
        "conf/base/azureml.yml: jobs.train.experiment_name: Interpolation key '_nope' not found; "
        "fix the `${...}` interpolation"
    )


def test_one_section_in_two_files_of_one_environment_is_refused(conf, load, minimal_yaml):
    (conf / "base" / "azureml.yml").write_text(minimal_yaml)
    (conf / "base" / "azureml-jobs.yml").write_text("jobs:\n  other: {}\n")

    with pytest.raises(ConfigError) as raised:
        load()

    message = str(raised.value)
    assert "conf/base/azureml-jobs.yml" in message
    assert "conf/base/azureml.yml" in message
    assert str(conf) not in message
    assert message.endswith("keep each top-level section in one file per environment")


def test_loading_registers_the_pattern_and_keeps_a_projects_own(conf, minimal_yaml):
    from kedro.config import OmegaConfigLoader

    (conf / "base" / "settings-azureml.yml").write_text(minimal_yaml)
    loader = OmegaConfigLoader(
        conf_source=str(conf),
        base_env="base",
        default_run_env="local",
        config_patterns={AZUREML_CONFIG_KEY: ["settings-azureml*"]},
    )

    assert list(load_config(loader, conf_source=conf, env=None).jobs) == ["train"]
    assert loader.config_patterns[AZUREML_CONFIG_KEY] == ["settings-azureml*"]
    assert loader.merge_strategy[AZUREML_CONFIG_KEY] == "soft"


def test_parse_config_names_its_source():
    with pytest.raises(ConfigError, match=r"^template/azureml\.yml: the file is empty"):
        parse_config({}, source="template/azureml.yml")
    with pytest.raises(ConfigError, match=r"^azureml\.yml: expected a mapping of sections"):
        parse_config(["workspace"])
    with pytest.raises(ConfigError, match=r"^azureml\.yml: workspace: expected a mapping, got 'x'"):
        parse_config({"workspace": "x", "compute": {}, "environment": {}})


def test_a_missing_environment_folder_is_named(conf, load, minimal_yaml):
    (conf / "base" / "azureml.yml").write_text(minimal_yaml)

    with pytest.raises(ConfigError) as raised:
        load(env="staging")

    assert str(raised.value) == (
        "conf/staging is not a folder: create it, or choose another Kedro environment"
    )
