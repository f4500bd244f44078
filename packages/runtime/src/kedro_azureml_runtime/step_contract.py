"""The step contract: the ``kedro azureml execute`` command line that every compiled step runs.

It is defined once, here. The deploy package's compiler builds a :class:`StepCommand` and writes
``StepCommand.to_shell()`` into each step; ``kedro azureml execute`` declares its options with
:func:`step_options` and turns what click parsed back into a ``StepCommand`` with
:meth:`StepCommand.from_options`. A test builds commands, parses them with the real ``execute``
command and compares, so the two sides cannot drift.

Besides its arguments, a step reads these environment variables, which the compiler sets:

- ``KEDRO_ENV`` (:data:`KEDRO_ENV_VARIABLE`): the Kedro environment it runs with;
- :data:`MLFLOW_EXPERIMENT_VARIABLE` and :data:`JOB_NAME_VARIABLE`, in projects that use MLflow:
  they turn the runtime's MLflow hook on (see ``hooks.mlflow_hook``).

Parameters a step's nodes read (``params:<name>`` and ``parameters``) come as job inputs, one
``--param-input DATASET TYPE VALUE`` each: on Azure ML, VALUE is ``${{inputs.<name>}}``, which
Azure ML replaces with the input's value as text before the shell reads the command. A number or a
boolean is written as it is; a string or JSON value (:data:`TEXT_KINDS`) is wrapped in a quoted
here-document (:data:`VALUE_DELIMITER`), so that quotes, spaces, ``$`` and new lines in the value
reach ``execute`` unchanged (trailing new lines excepted, as in any ``$(...)``). ``execute`` turns the
text back into the typed value (``params.parameter_input_value``) and hands every value to Kedro as
a runtime parameter, as ``kedro run --params`` does.

Importing this module costs click and the standard library only: Kedro loads the command group,
which uses it, on every ``kedro`` call.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

#: The Kedro environment of the step.
KEDRO_ENV_VARIABLE = "KEDRO_ENV"
#: Set by the compiler in every step of a project that uses MLflow: the experiment the job's runs
#: belong to. Its presence turns the runtime's MLflow hook on.
MLFLOW_EXPERIMENT_VARIABLE = "KEDRO_AZUREML_MLFLOW_EXPERIMENT"
#: Set by the compiler next to :data:`MLFLOW_EXPERIMENT_VARIABLE`: the job's name in azureml.yml.
JOB_NAME_VARIABLE = "KEDRO_AZUREML_JOB_NAME"

#: The command every step runs, before its options.
EXECUTE = ("kedro", "azureml", "execute")

#: An Azure ML expression (``${{inputs.model}}``) that Azure ML substitutes before the shell sees
#: the command: written as it is, never quoted.
_AZURE_EXPRESSION = re.compile(r"\$\{\{[^}]*\}\}")

#: The types of ``--param-input``: Azure ML's literal input types, and ``json`` for a mapping or a
#: list (a ``string`` input holding JSON).
PARAMETER_KINDS = ("integer", "number", "boolean", "string", "json")
#: The kinds whose value can hold any character, so the shell reads it from a here-document.
TEXT_KINDS = ("string", "json")
#: Ends the quoted here-document that holds a text value (a value with a line equal to it cannot
#: be passed; :func:`here_document_safe` checks).
VALUE_DELIMITER = "KEDRO_AZUREML_VALUE"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class StepCommand:
    """One step's ``kedro azureml execute`` invocation.

    Attributes:
        pipeline: the registered pipeline the nodes belong to.
        nodes: the nodes the step runs, in topological order.
        inputs: ``(dataset, mounted folder)`` for each dataset read from a mount.
        outputs: ``(dataset, mounted folder)`` for each dataset written to a mount.
        params: runtime parameters, as ``kedro run --params`` gives them.
        load_versions: dataset name to the version to load.
        retries: how many more times the step runs its nodes when they fail.
        parameter_inputs: ``(dataset, kind, value)`` for each parameter read from a job input:
            ``dataset`` is ``params:<name>`` or ``parameters``, ``kind`` one of
            :data:`PARAMETER_KINDS`, ``value`` its text (``${{inputs.<name>}}`` on Azure ML).
    """

    pipeline: str = "__default__"
    nodes: tuple[str, ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()
    outputs: tuple[tuple[str, str], ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    load_versions: Mapping[str, str] = field(default_factory=dict)
    retries: int = 0
    parameter_inputs: tuple[tuple[str, str, str], ...] = ()

    def arguments(self) -> list[str]:
        """The command line as a list of arguments, ``kedro azureml execute`` first."""
        args = [*EXECUTE, "--pipeline", self.pipeline]
        for node in self.nodes:
            args += ["--node", node]
        if self.params:
            args += ["--params", json.dumps(self.params, sort_keys=True)]
        if self.load_versions:
            versions = ",".join(f"{k}:{v}" for k, v in sorted(self.load_versions.items()))
            args += ["--load-versions", versions]
        if self.retries:
            args += ["--retries", str(self.retries)]
        for name, folder in self.inputs:
            args += ["--az-input", name, folder]
        for name, folder in self.outputs:
            args += ["--az-output", name, folder]
        for dataset, kind, value in self.parameter_inputs:
            args += ["--param-input", dataset, kind, value]
        return args

    def to_shell(self) -> str:
        """The command line as one shell command; Azure ML expressions stay unquoted, except the
        values of text parameters, which the shell reads from a quoted here-document."""
        words = [_shell_word(arg) for arg in self.arguments()]
        if self.parameter_inputs:  # the arguments end with the parameter inputs, 4 words each
            start = len(words) - 4 * len(self.parameter_inputs)
            for index, (_, kind, value) in enumerate(self.parameter_inputs):
                if kind in TEXT_KINDS:
                    words[start + 4 * index + 3] = _here_document(value)
        return " ".join(words)

    @classmethod
    def from_options(
        cls,
        *,
        pipeline: str,
        nodes: Sequence[str],
        az_inputs: Sequence[tuple[str, str]],
        az_outputs: Sequence[tuple[str, str]],
        params: Mapping[str, Any],
        load_versions: Mapping[str, str],
        retries: int,
        parameter_inputs: Sequence[tuple[str, str, str]] = (),
    ) -> StepCommand:
        """The command ``execute``'s options (declared by :func:`step_options`) describe."""
        return cls(
            pipeline=pipeline,
            nodes=tuple(nodes),
            inputs=tuple(tuple(pair) for pair in az_inputs),  # type: ignore[misc]
            outputs=tuple(tuple(pair) for pair in az_outputs),  # type: ignore[misc]
            params=dict(params),
            load_versions=dict(load_versions),
            retries=retries,
            parameter_inputs=tuple(tuple(item) for item in parameter_inputs),  # type: ignore[misc]
        )


def here_document_safe(value: str) -> bool:
    """Whether a text value survives :meth:`StepCommand.to_shell`'s here-document: no line of it
    is the delimiter, and it does not end with a new line."""
    return VALUE_DELIMITER not in value.splitlines() and not value.endswith("\n")


def _here_document(value: str) -> str:
    # A quoted delimiter: the shell expands nothing inside, so the text arrives as Azure ML wrote it.
    return f"\"$(cat <<'{VALUE_DELIMITER}'\n{value}\n{VALUE_DELIMITER}\n)\""


def _shell_word(arg: str) -> str:
    return arg if _AZURE_EXPRESSION.fullmatch(arg) else shlex.quote(arg)


def params_callback(ctx: click.Context, param: click.Parameter, value: str) -> dict[str, Any]:
    """Click callback of ``--params`` (here and in the deploy package's commands): the parsed
    parameters, or a usage error saying how to write them."""
    from kedro_azureml_runtime.errors import ParamsError
    from kedro_azureml_runtime.params import parse_params

    try:
        return parse_params(value)
    except ParamsError as exc:
        raise click.UsageError(str(exc), ctx=ctx) from None


def load_versions_callback(
    ctx: click.Context, param: click.Parameter, value: str
) -> dict[str, str]:
    """Click callback of ``--load-versions``: the parsed versions, or a usage error."""
    from kedro_azureml_runtime.errors import ParamsError
    from kedro_azureml_runtime.params import parse_load_versions

    try:
        return parse_load_versions(value)
    except ParamsError as exc:
        raise click.UsageError(str(exc), ctx=ctx) from None


#: The options of ``kedro azureml execute`` that :class:`StepCommand` holds, in its order.
STEP_OPTIONS = (
    click.option(
        "-p",
        "--pipeline",
        default="__default__",
        show_default=True,
        help="Registered pipeline name.",
    ),
    click.option(
        "-n",
        "--node",
        "nodes",
        multiple=True,
        required=True,
        help="Node to run; repeat to run several nodes in one step (in topological order).",
    ),
    click.option(
        "--params",
        default="",
        callback=params_callback,
        help="Runtime parameters: a JSON object, or Kedro's key=value,key2.sub=value2 syntax.",
    ),
    click.option(
        "--load-versions",
        default="",
        callback=load_versions_callback,
        help="Dataset versions to load, as Kedro's dataset_name:YYYY-MM-DDThh.mm.ss.sssZ,...",
    ),
    click.option(
        "--retries",
        type=click.IntRange(0, 10),
        default=0,
        show_default=True,
        help="Run the node(s) again, up to this many times, when they fail (a new session each "
        "time).",
    ),
    click.option(
        "--az-input",
        "az_inputs",
        type=(str, str),
        multiple=True,
        metavar="NAME PATH",
        help="Dataset NAME is read from the mounted folder PATH. Repeatable.",
    ),
    click.option(
        "--az-output",
        "az_outputs",
        type=(str, str),
        multiple=True,
        metavar="NAME PATH",
        help="Dataset NAME is written to the mounted folder PATH. Repeatable.",
    ),
    click.option(
        "--param-input",
        "parameter_inputs",
        type=(str, click.Choice(PARAMETER_KINDS), str),
        multiple=True,
        metavar="DATASET TYPE VALUE",
        help="Parameter DATASET (params:<name>, or parameters) has VALUE, the text of a job input "
        f"of TYPE ({', '.join(PARAMETER_KINDS)}); it overrides --params. Repeatable.",
    ),
)


def step_options(command: F) -> F:
    """Declare the options of :data:`STEP_OPTIONS` on ``command``."""
    for option in reversed(STEP_OPTIONS):
        command = option(command)
    return command
