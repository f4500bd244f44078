"""The step contract round-trips: what the compiler writes is what ``execute`` parses."""

from __future__ import annotations

import shlex
import subprocess

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
        parameter_inputs=(
            ("params:model.depth", "integer", "3"),
            ("params:rate", "number", "0.5"),
            ("params:flag", "boolean", "True"),
            ("params:greeting", "string", 'it\'s "quoted" $HOME `id` $(id) ; && é 日本'),
            ("params:model", "json", '{"depth": 3, "name": "a ) b"}'),
            ("parameters", "json", "{}"),
            ("params:multi", "string", "two\nlines"),
        ),
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


def shell_arguments(shell_command: str) -> list[str]:
    """The arguments ``/bin/sh`` gives the program of ``shell_command``."""
    assert shell_command.startswith(" ".join(EXECUTE))
    script = "printf '%s\\0' " + shell_command
    done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, check=True)
    return done.stdout.decode("utf-8").split("\0")[:-1]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_shell_command_gives_the_same_arguments(command):
    assert shell_arguments(command.to_shell()) == command.arguments()
    assert parsed(shell_arguments(command.to_shell())[3:]) == command


def test_without_text_parameters_the_shell_command_is_one_line_of_words():
    (command,) = [c for c in COMMANDS if not c.parameter_inputs]
    assert shlex.split(command.to_shell()) == command.arguments()


def test_text_values_substituted_into_the_here_document_reach_execute_unchanged():
    """What Azure ML does: the ``${{inputs.*}}`` expression is replaced by the value's text."""
    command = StepCommand(
        nodes=("n",),
        parameter_inputs=(
            ("params:greeting", "string", "${{inputs.greeting}}"),
            ("params:lr", "number", "${{inputs.lr}}"),
        ),
    ).to_shell()
    value = 'l\'été "chaud" $PATH `x` \\n ${{y}} )'
    substituted = command.replace("${{inputs.greeting}}", value).replace("${{inputs.lr}}", "0.1")

    arguments = shell_arguments(substituted)

    assert arguments[-8:] == [
        "--param-input", "params:greeting", "string", value,
        "--param-input", "params:lr", "number", "0.1",
    ]  # fmt: skip
    assert "--param-input params:lr number ${{inputs.lr}}" in command


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
