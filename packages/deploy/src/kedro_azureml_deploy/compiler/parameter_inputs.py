"""Kedro parameters as typed inputs of the compiled pipeline job, each step reading only its own.

Every parameter a node of the job reads (``params:<name>``, nested names included, and the whole
``parameters``) becomes one pipeline-level input whose value is the project's configured value after
``--params``; its YAML type is its Azure ML type (``integer``, ``number``, ``boolean``, ``string``;
a mapping, a list or ``null`` is a ``string`` holding JSON). A step binds the inputs its nodes read
(``${{parent.inputs.<name>}}``) and passes them to ``execute`` with ``--param-input`` (see the
runtime's ``step_contract``), so setting an input when the job is triggered (studio's resubmit, a
schedule, ``kedro azureml run --params``) reaches exactly the nodes that read it, and with
``step_reuse`` every other step stays the same.

Input names (:func:`input_name`) follow Azure ML's rule, ``[a-zA-Z_][a-zA-Z0-9_]*`` and distinct
ignoring case, and no two Kedro names share one:

- ``parameters`` is ``parameters``;
- a name whose dot-separated parts are lower-case letters and digits joined by single ``_``, the
  first starting with a letter, keeps its parts joined by ``__``:
  ``params:model_options.test_size`` is ``model_options__test_size``;
- any other name (capitals, ``-``, spaces, ``__``, a leading digit, or ``params:parameters``) is
  ``_`` followed by its escaped characters: ``a-z`` and ``0-9`` as they are, ``.`` as ``__``, any
  other character as ``_`` and two hex digits (``_u`` and six for a code point above ``ff``):
  ``params:learningRate`` is ``_learning_52ate``.

Every name is lower-case, the first kind never starts with ``_`` and never is ``parameters``, and
the escapes decode one way (:func:`dataset_of` is the inverse), hence no collision.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.errors import CompileError, ConfigError
from kedro_azureml_runtime.step_contract import VALUE_DELIMITER, here_document_safe

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline.node import Node

#: The dataset of all parameters, and its input's name.
WHOLE_PARAMETERS = "parameters"
#: The prefix of one parameter's dataset.
PARAMS_PREFIX = "params:"
#: Azure ML's rule for an input name (``azure.ai.ml``'s ``IOConstants.VALID_KEY_PATTERN``, without
#: the dots of group inputs).
AZURE_INPUT_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

_PLAIN_PART = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_KEPT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def is_parameter(dataset: str) -> bool:
    """Whether ``dataset`` is a parameter: ``params:<name>`` or ``parameters``."""
    return dataset == WHOLE_PARAMETERS or dataset.startswith(PARAMS_PREFIX)


def input_name(dataset: str) -> str:
    """The pipeline input of parameter ``dataset`` (``params:<name>`` or ``parameters``)."""
    if dataset == WHOLE_PARAMETERS:
        return WHOLE_PARAMETERS
    if not dataset.startswith(PARAMS_PREFIX):
        raise ValueError(f"{dataset!r} is not a parameter (params:<name>, or parameters)")
    name = dataset.removeprefix(PARAMS_PREFIX)
    parts = name.split(".")
    if name != WHOLE_PARAMETERS and name[:1].isalpha() and all(map(_PLAIN_PART.fullmatch, parts)):
        return "__".join(parts)
    return "_" + "".join(_escape(character) for character in name)


def _escape(character: str) -> str:
    if character in _KEPT:
        return character
    if character == ".":
        return "__"
    code = ord(character)
    return f"_{code:02x}" if code <= 0xFF else f"_u{code:06x}"


def dataset_of(name: str) -> str:
    """The parameter whose input is ``name``: the inverse of :func:`input_name`.

    Raises:
        ValueError: no parameter has an input of that name.
    """
    if name == WHOLE_PARAMETERS:
        return WHOLE_PARAMETERS
    if not name.startswith("_"):
        parts = name.split("__")
        decoded = ".".join(parts)
        if (
            name[:1].isalpha()
            and all(map(_PLAIN_PART.fullmatch, parts))
            and decoded != WHOLE_PARAMETERS
        ):
            return PARAMS_PREFIX + decoded
        raise ValueError(f"{name!r} is not the input of a Kedro parameter")
    characters, index = [], 1
    while index < len(name):
        character = name[index]
        if character in _KEPT:
            characters.append(character)
            index += 1
            continue
        if character != "_":
            raise ValueError(f"{name!r} is not the input of a Kedro parameter")
        escape = name[index + 1 : index + 2]
        width = 0 if escape == "_" else 7 if escape == "u" else 2
        code = name[index + 1 : index + 1 + width]
        if escape == "_":
            characters.append(".")
            index += 2
        elif len(code) == width and re.fullmatch(r"u?[0-9a-f]+", code):
            characters.append(chr(int(code.lstrip("u"), 16)))
            index += 1 + width
        else:
            raise ValueError(f"{name!r} is not the input of a Kedro parameter")
    decoded = "".join(characters)
    if input_name(PARAMS_PREFIX + decoded) != name:  # a plain name written the escaped way
        raise ValueError(f"{name!r} is not the input of a Kedro parameter")
    return PARAMS_PREFIX + decoded


def input_kind(value: Any) -> str:
    """The ``--param-input`` type of a parameter's value: its Azure ML literal type, or ``json``."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "json"


def input_value(value: Any) -> bool | int | float | str:
    """The literal a pipeline input holds for a parameter's value (JSON text for ``json``)."""
    if input_kind(value) == "json":
        return json.dumps(value, ensure_ascii=False)
    return value


@dataclass(frozen=True)
class ParameterInput:
    """A pipeline-level input of the job holding a Kedro parameter.

    Attributes:
        name: the Azure ML input name (:func:`input_name`).
        dataset: the Kedro dataset, ``params:<name>`` or ``parameters``.
        kind: its ``--param-input`` type (:func:`input_kind`).
        value: the input's value in the compiled job (JSON text for ``json``).
    """

    name: str
    dataset: str
    kind: str
    value: bool | int | float | str


@dataclass(frozen=True)
class StepParameters:
    """What a step gets to read its nodes' parameters.

    Attributes:
        inputs: step input port to its binding, ``${{parent.inputs.<name>}}``.
        arguments: ``(dataset, kind, ${{inputs.<name>}})`` for ``StepCommand.parameter_inputs``.
    """

    inputs: dict[str, str]
    arguments: tuple[tuple[str, str, str], ...]


def consumed_parameters(nodes: Iterable[Node]) -> list[str]:
    """The parameters ``nodes`` read, in order of first appearance."""
    return list(dict.fromkeys(name for node in nodes for name in node.inputs if is_parameter(name)))


def job_parameter_inputs(
    job_name: str, nodes: Iterable[Node], catalog: CatalogProtocol
) -> dict[str, ParameterInput]:
    """One pipeline input per parameter the job's nodes read, by dataset, valued from ``catalog``
    (the project's parameters after ``--params``).

    Raises:
        CompileError: a node reads a parameter the configuration does not define.
    """
    found: dict[str, ParameterInput] = {}
    for node in nodes:
        for dataset in node.inputs:
            if not is_parameter(dataset) or dataset in found:
                continue
            try:
                value = catalog.load(dataset)
            except Exception:
                raise CompileError(
                    f"job {job_name!r}: node {node.name!r} reads {dataset}, which the project's "
                    "parameters do not define: add it to conf/base/parameters.yml (kedro run "
                    "fails the same way)."
                ) from None
            literal = input_value(value)
            if isinstance(literal, str) and not here_document_safe(literal):
                raise CompileError(
                    f"job {job_name!r}: parameter {dataset} (read by node {node.name!r}) "
                    f"{_unsafe_text(literal)}, which a job input cannot carry to a step: strip "
                    "it from the value (in YAML, write a block scalar with `|-`)."
                )
            found[dataset] = ParameterInput(
                name=input_name(dataset),
                dataset=dataset,
                kind=input_kind(value),
                value=literal,
            )
    return found


def _unsafe_text(text: str) -> str:
    if text.endswith("\n"):
        return "ends with a new line"
    return f"has a line {VALUE_DELIMITER}"


def step_parameters(
    nodes: Iterable[Node],
    job_inputs: Mapping[str, ParameterInput],
    *,
    ports: Iterable[str] = (),
) -> StepParameters:
    """The inputs and ``--param-input`` arguments of a step running ``nodes``: the parameters their
    inputs name (the union over the nodes), each bound to its pipeline input.

    Args:
        nodes: the step's nodes.
        job_inputs: :func:`job_parameter_inputs` of the job.
        ports: the step's dataset ports, which a parameter's port must not take.

    Raises:
        CompileError: a dataset port has the name of a parameter input.
    """
    taken = set(ports)
    inputs: dict[str, str] = {}
    arguments = []
    for dataset in consumed_parameters(nodes):
        parameter = job_inputs[dataset]
        if parameter.name in taken:
            raise CompileError(
                f"dataset port {parameter.name!r} of a step is also the input of parameter "
                f"{dataset}: rename the dataset in the catalog and the pipeline."
            )
        inputs[parameter.name] = f"${{{{parent.inputs.{parameter.name}}}}}"
        arguments.append((dataset, parameter.kind, f"${{{{inputs.{parameter.name}}}}}"))
    return StepParameters(inputs=inputs, arguments=tuple(arguments))


def params_left_in_commands(
    params: Mapping[str, Any], job_inputs: Mapping[str, ParameterInput], catalog: CatalogProtocol
) -> dict[str, Any]:
    """The part of ``--params`` no job input carries, which stays in every step's ``--params``
    (keys the configuration reads through ``${runtime_params:...}`` without a node reading them):
    ``params`` without the values under a parameter some node reads."""
    covered: set[tuple[str, ...]] = set()
    for dataset in job_inputs:
        if dataset == WHOLE_PARAMETERS:
            whole = catalog.load(WHOLE_PARAMETERS)
            covered |= {(key,) for key in (whole if isinstance(whole, dict) else {})}
        else:
            covered.add(tuple(dataset.removeprefix(PARAMS_PREFIX).split(".")))
    return _without(dict(params), (), covered)


def _without(
    params: dict[str, Any], path: tuple[str, ...], covered: set[tuple[str, ...]]
) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in params.items():
        where = (*path, str(key))
        if any(where[: len(c)] == c for c in covered):
            continue
        if isinstance(value, dict) and any(c[: len(where)] == where for c in covered):
            value = _without(value, where, covered)
            if not value:
                continue
        kept[key] = value
    return kept


def set_input_value(
    parameter: ParameterInput, value: Any, *, where: str
) -> bool | int | float | str:
    """The literal input ``parameter`` holds when set to ``value`` at trigger time: a value of its
    type (an integer is a ``number`` too; a mapping or a list is written as JSON for a JSON input).

    Args:
        parameter: the input.
        value: the new value, as Kedro parses ``--params`` or as YAML gives it.
        where: what set it, for the message (``--input lr``, ``schedules.nightly.inputs.lr``).

    Raises:
        ConfigError: the value does not have the input's type.
    """
    kind = parameter.kind
    if kind == "json":
        if isinstance(value, str):
            try:
                json.loads(value)
            except json.JSONDecodeError:
                pass
            else:
                return value
        elif not isinstance(value, bool | int | float):
            return input_value(value)
    elif kind == input_kind(value) or (kind == "number" and input_kind(value) == "integer"):
        if isinstance(value, str) and not here_document_safe(value):
            raise ConfigError(
                f"{where}: the value {_unsafe_text(value)}, which a job input cannot carry to a "
                "step; strip it."
            )
        return value
    shown = json.dumps(parameter.value, ensure_ascii=False)
    raise ConfigError(
        f"{where}: {value!r} is not {_described(kind)}, the type of input {parameter.name!r} "
        f"({parameter.dataset}, compiled as {shown}); give a value of that type (quote a string "
        "that reads as a number: name='0.5')."
    )


def _described(kind: str) -> str:
    return {"json": "a mapping or a list (JSON)", "integer": "an integer"}.get(kind, f"a {kind}")
