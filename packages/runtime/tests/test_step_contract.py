"""The step contract round-trips: what the compiler writes is what ``execute`` parses."""

from __future__ import annotations

import shlex

import pytest

from kedro_azureml_runtime.cli import execute
from kedro_azureml_runtime.step_contract import EXECUTE, StepCommand

COMMANDS = [
    StepCommand(nodes=("train",)),
    StepCommand(
        pipeline="data processing",
        nodes=("split data", "train_model"),
        inputs=(("model_input_table", "/mnt/in/table"), ("params:odd name", "/mnt/x y")),
        outputs=(("regressor", "/mnt/out/regressor"),),
        params={"model": {"depth": 3, "rate": 0.5}, "flag": False, "name": "it's ${x}"},
        load_versions={"regressor": "2026-01-01T00.00.00.000Z", "b": "v2"},
        retries=3,
    ),
]


def parsed(arguments: list[str]) -> StepCommand:
    """``arguments`` (without ``kedro azureml execute``) as the real ``execute`` parses them."""
    context = execute.make_context("execute", list(arguments))
    options = {key: value for key, value in context.params.items() if key != "env"}
    return StepCommand.from_options(**options)


@pytest.mark.parametrize("command", COMMANDS)
def test_execute_parses_the_arguments_a_command_is_built_with(command):
    arguments = command.arguments()
    assert tuple(arguments[:3]) == EXECUTE
    assert parsed(arguments[3:]) == command


@pytest.mark.parametrize("command", COMMANDS)
def test_the_shell_command_splits_into_the_same_arguments(command):
    assert shlex.split(command.to_shell()) == command.arguments()
    assert parsed(shlex.split(command.to_shell())[3:]) == command


def test_azure_ml_expressions_are_written_unquoted_and_names_quoted():
    command = StepCommand(
        nodes=("a node",),
        inputs=(("table", "${{inputs.table}}"),),
        outputs=(("odd name", "${{outputs.odd_name}}"),),
    )

    assert command.to_shell() == (
        "kedro azureml execute --pipeline __default__ --node 'a node' "
        "--az-input table ${{inputs.table}} --az-output 'odd name' ${{outputs.odd_name}}"
    )


def test_options_left_at_their_default_are_not_written():
    assert StepCommand(nodes=("n",)).to_shell() == (
        "kedro azureml execute --pipeline __default__ --node n"
    )
