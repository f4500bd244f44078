"""The compiled job file a replay consumes, read and checked into step specs.

The replay reads the YAML Azure ML would get, never the Kedro pipeline, and understands the part of
the pipeline job schema that ``kedro azureml compile`` writes: command steps, inputs bound to other
steps' outputs, to data assets or to the job's inputs (literal values: Kedro parameters), ``uri_folder`` outputs, a code folder (or, in image mode, a
``cd <working directory> &&`` prefix), environment variables and a timeout. Anything else is
refused before a step runs, with a ``ReplayError`` naming the file and the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import yaml

from kedro_azureml_deploy.errors import ReplayError

#: ``${{inputs.NAME}}`` and ``${{outputs.NAME}}`` in a step's command.
PORT_PLACEHOLDER = re.compile(r"\$\{\{\s*(?P<kind>inputs|outputs)\.(?P<port>[A-Za-z_]\w*)\s*\}\}")
#: Any ``${{...}}`` expression, to refuse those the replay cannot expand.
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
#: An input bound to another step's output.
STEP_OUTPUT_BINDING = re.compile(
    r"\$\{\{\s*parent\.jobs\.(?P<step>[a-z_]\w*)\.outputs\.(?P<port>[A-Za-z_]\w*)\s*\}\}"
)
#: An input bound to an input of the job.
JOB_INPUT_BINDING = re.compile(r"\$\{\{\s*parent\.inputs\.(?P<name>[A-Za-z_]\w*)\s*\}\}")
#: ``azureml:NAME:VERSION`` or ``azureml:NAME@latest``.
ASSET_REFERENCE = re.compile(r"azureml:(?P<name>[^:@/]+)(?::(?P<version>[^:@/]+)|@latest)")
#: The prefix of an image-mode command: ``cd <working directory> && ``.
IMAGE_WORKDIR_PREFIX = re.compile(r"cd\s+(?P<workdir>'[^']*'|[^\s'&;|]+)\s*&&\s*")
#: Azure ML's rule for the name of a step of a pipeline job.
STEP_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# libyaml's safe loader reads what PyYAML's pure-Python one reads, about ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

RECOMPILE = "recompile it with `kedro azureml compile`"


@dataclass(frozen=True)
class StepOutputInput:
    """An input bound to output ``port`` of step ``step`` (``${{parent.jobs.S.outputs.P}}``)."""

    step: str
    port: str


@dataclass(frozen=True)
class AssetInput:
    """An input that is an Azure ML data asset (``azureml:NAME:VERSION`` or ``@latest``).

    Attributes:
        name: the data asset's name.
        version: its version; ``None`` for ``@latest``.
        type: ``uri_folder`` (mounted as a folder) or ``uri_file`` (mounted as the file itself).
    """

    name: str
    version: str | None
    type: str

    @property
    def reference(self) -> str:
        """The asset as the job file names it."""
        if self.version is None:
            return f"azureml:{self.name}@latest"
        return f"azureml:{self.name}:{self.version}"


@dataclass(frozen=True)
class JobInput:
    """An input bound to input ``name`` of the job (``${{parent.inputs.NAME}}``): a literal value
    that Azure ML writes into the command as text."""

    name: str


StepInput = StepOutputInput | AssetInput | JobInput


def input_text(value: Any) -> str:
    """A literal input's value as Azure ML writes it into a command (azure-ai-ml sends literals as
    Python's ``str``: ``True``, ``0.1``)."""
    return str(value)


@dataclass(frozen=True)
class StepSpec:
    """One command step of the compiled job, as the replay runs it.

    Attributes:
        name: the step's key under ``jobs``.
        command: the shell command, with its ``${{inputs.*}}``/``${{outputs.*}}`` placeholders.
        environment_variables: set for the command, on top of the replay's own environment.
        inputs: input port to what Azure ML would mount there.
        outputs: output ports; each gets an empty folder.
        timeout: ``limits.timeout`` in seconds, ``None`` when the step has none.
        image_workdir: in image mode, the working directory the command ``cd``s into first (the
            replay replaces it with the step's working copy); ``None`` in code upload mode.
    """

    name: str
    command: str
    environment_variables: Mapping[str, str]
    inputs: Mapping[str, StepInput]
    outputs: tuple[str, ...]
    timeout: float | None
    image_workdir: str | None

    @property
    def upstream(self) -> tuple[str, ...]:
        """The steps whose outputs this step reads, sorted."""
        return tuple(
            sorted({i.step for i in self.inputs.values() if isinstance(i, StepOutputInput)})
        )


@dataclass(frozen=True)
class CompiledFile:
    """A compiled Azure ML pipeline job, checked for replay.

    Attributes:
        path: the file, absolute.
        text: its content, copied into the run folder and compared on resume.
        display_name: the job's ``display_name`` (its file name when it has none).
        continue_on_step_failure: ``settings.continue_on_step_failure``.
        code: the code folder every step uploads (resolved from the file's folder), ``None`` in
            image mode.
        steps: the command steps by name, in the file's order.
        inputs: the job's inputs (literal values) by name, as a resubmission would set them.
        step_reuse: ``settings.force_rerun`` is ``false``: Azure ML may reuse the outputs of an
            earlier run of a step (``jobs.<job>.step_reuse: true``), and so does the replay.
    """

    path: Path
    text: str
    display_name: str
    continue_on_step_failure: bool
    code: Path | None
    steps: Mapping[str, StepSpec]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    step_reuse: bool = False

    def dependents(self, name: str) -> set[str]:
        """Every step that reads, directly or through other steps, an output of step ``name``."""
        readers: dict[str, set[str]] = {step: set() for step in self.steps}
        for step in self.steps.values():
            for upstream in step.upstream:
                readers[upstream].add(step.name)
        found: set[str] = set()
        pending = [name]
        while pending:
            for reader in readers[pending.pop()]:
                if reader not in found:
                    found.add(reader)
                    pending.append(reader)
        return found


def load_yaml(text: str) -> Any:
    """``text`` read as ``yaml.safe_load`` reads it (a compiled job, a run's record of one)."""
    return yaml.load(text, Loader=_LOADER)  # a safe loader: libyaml's


def read_compiled_file(path: Path) -> CompiledFile:
    """Read and check the compiled pipeline job at ``path``.

    Raises:
        ReplayError: the file is missing, is not YAML, is not an Azure ML pipeline job, or uses
            something the replay cannot reproduce; the message names the key and the fix.
    """
    path = Path(path).absolute()
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ReplayError(
            f"compiled job file {path} {problem}: compile the job first with "
            "`kedro azureml compile -j <job> -o <file>`, then replay that file."
        )
    try:
        text = path.read_text(encoding="utf-8")
        document = load_yaml(text)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        where = getattr(exc, "problem_mark", None)
        position = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise ReplayError(f"{path} is not valid YAML{position}: {RECOMPILE}.") from None
    if not isinstance(document, dict) or document.get("type") != "pipeline":
        found = document.get("type") if isinstance(document, dict) else None
        kind = f"`type: {found}`" if found else "no `type: pipeline`"
        raise ReplayError(
            f"{path} is not an Azure ML pipeline job ({kind}): pass the file "
            "`kedro azureml compile` wrote."
        )
    jobs = document.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise ReplayError(f"{path}: `jobs` holds no step: {RECOMPILE}.")

    steps = {name: _read_step(path, name, spec) for name, spec in jobs.items()}
    inputs = _job_inputs(path, document)
    _check_bindings(path, steps, inputs)
    settings = document.get("settings") or {}
    return CompiledFile(
        path=path,
        text=text,
        display_name=str(document.get("display_name") or path.stem),
        continue_on_step_failure=bool(settings.get("continue_on_step_failure", False)),
        code=_code_folder(path, jobs),
        steps=steps,
        inputs=inputs,
        step_reuse=settings.get("force_rerun") is False,
    )


def with_inputs(job: CompiledFile, values: Mapping[str, Any], *, where: str) -> CompiledFile:
    """``job`` with the values of some of its inputs set, as a resubmission with new inputs sets
    them; its ``text`` is the job file with those values, so a run records what it ran.

    Args:
        job: the compiled job file.
        values: input name to its new value, typed as Kedro types ``--params`` values.
        where: the option that set them, for messages.

    Raises:
        ReplayError: a name is not an input of the job, or a value is not of its input's type.
    """
    from kedro_azureml_deploy.compiler.compiled_job import dump_yaml, unknown_input_message
    from kedro_azureml_deploy.compiler.parameter_inputs import (
        ParameterInput,
        input_kind,
        set_input_value,
    )
    from kedro_azureml_deploy.errors import ConfigError

    if not values:
        return job
    inputs = dict(job.inputs)
    for name, value in values.items():
        if name not in inputs:
            raise ReplayError(unknown_input_message(job.display_name, name, inputs, where=where))
        current = inputs[name]
        parameter = ParameterInput(name, name, _kind_in_file(current, input_kind), current)
        try:
            inputs[name] = set_input_value(parameter, value, where=f"{where} {name}")
        except ConfigError as exc:
            raise ReplayError(str(exc)) from None
    document = load_yaml(job.text)
    document["inputs"] = inputs
    return replace(job, text=dump_yaml(document), inputs=inputs)


def _kind_in_file(value: Any, input_kind: Any) -> str:
    """The type of a job input as its value in the file says: a string holding a JSON mapping
    or list is a mapping or list parameter (compile writes those as JSON)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            json.loads(value)
        except json.JSONDecodeError:
            return "string"
        return "json"
    return str(input_kind(value))


def _job_inputs(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    inputs = document.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise ReplayError(f"{path}: `inputs` is not a mapping: {RECOMPILE}.")
    for name, value in inputs.items():
        if not isinstance(value, bool | int | float | str):
            raise ReplayError(
                f"{path}: inputs.{name} is {value!r}; the local replay takes job inputs that are "
                "literal values (integer, number, boolean, string), as compile writes them."
            )
    return {str(name): value for name, value in inputs.items()}


def _read_step(path: Path, name: Any, spec: Any) -> StepSpec:
    if not isinstance(name, str) or not STEP_NAME.fullmatch(name):
        raise ReplayError(
            f"{path}: jobs.{name} is not a valid Azure ML step name (lower-case letters, digits "
            f"and `_`, not starting with a digit): {RECOMPILE}."
        )
    where = f"{path}: jobs.{name}"
    if not isinstance(spec, dict):
        raise ReplayError(f"{where} is not a mapping: {RECOMPILE}.")
    kind = spec.get("type", "command")
    if kind != "command":
        raise ReplayError(
            f"{where} is a `{kind}` step; the local replay runs command steps only: replay a "
            "job that `kedro azureml compile` wrote."
        )
    command = spec.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ReplayError(f"{where}.command is missing: {RECOMPILE}.")
    inputs = {
        port: _read_input(f"{where}.inputs.{port}", value)
        for port, value in _mapping(where, spec, "inputs").items()
    }
    outputs = tuple(_read_outputs(where, spec))
    _check_placeholders(where, command, inputs, outputs)
    image_workdir = None
    if "code" not in spec and (prefix := IMAGE_WORKDIR_PREFIX.match(command)):
        image_workdir = prefix["workdir"].strip("'")
    return StepSpec(
        name=name,
        command=command,
        environment_variables={
            str(key): _env_value(value)
            for key, value in _mapping(where, spec, "environment_variables").items()
        },
        inputs=inputs,
        outputs=outputs,
        timeout=_timeout(where, spec),
        image_workdir=image_workdir,
    )


def _mapping(where: str, spec: dict[str, Any], key: str) -> dict[Any, Any]:
    value = spec.get(key) or {}
    if not isinstance(value, dict):
        raise ReplayError(f"{where}.{key} is not a mapping: {RECOMPILE}.")
    return value


def _read_input(where: str, value: Any) -> StepInput:
    if isinstance(value, dict):
        reference, kind = value.get("path"), str(value.get("type", "uri_folder"))
    else:
        reference, kind = value, "uri_folder"
    if isinstance(reference, str):
        if binding := STEP_OUTPUT_BINDING.fullmatch(reference.strip()):
            return StepOutputInput(binding["step"], binding["port"])
        if binding := JOB_INPUT_BINDING.fullmatch(reference.strip()):
            return JobInput(binding["name"])
        if (asset := ASSET_REFERENCE.fullmatch(reference.strip())) and kind in (
            "uri_folder",
            "uri_file",
        ):
            return AssetInput(asset["name"], asset["version"], kind)
    raise ReplayError(
        f"{where} is {value!r}; the local replay provides outputs of other steps "
        "(`${{parent.jobs.STEP.outputs.PORT}}`), inputs of the job (`${{parent.inputs.NAME}}`) "
        "and data assets of type uri_folder or uri_file "
        "(`azureml:NAME:VERSION`, `azureml:NAME@latest`)."
    )


def _read_outputs(where: str, spec: dict[str, Any]) -> list[str]:
    ports = []
    for port, value in _mapping(where, spec, "outputs").items():
        kind = value.get("type", "uri_folder") if isinstance(value, dict) else None
        if kind != "uri_folder":
            raise ReplayError(
                f"{where}.outputs.{port} is {value!r}; the local replay writes outputs of type "
                f"uri_folder only: {RECOMPILE}."
            )
        ports.append(str(port))
    return ports


def _check_placeholders(
    where: str, command: str, inputs: Mapping[str, StepInput], outputs: tuple[str, ...]
) -> None:
    for expression in EXPRESSION.finditer(command):
        placeholder = PORT_PLACEHOLDER.fullmatch(expression.group())
        if placeholder is None:
            raise ReplayError(
                f"{where}.command uses {expression.group()}; the local replay expands "
                "${{inputs.NAME}} and ${{outputs.NAME}} only."
            )
        declared = inputs if placeholder["kind"] == "inputs" else outputs
        if placeholder["port"] not in declared:
            raise ReplayError(
                f"{where}.command uses {expression.group()}, but the step declares no such "
                f"{placeholder['kind'][:-1]}: {RECOMPILE}."
            )


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def _timeout(where: str, spec: dict[str, Any]) -> float | None:
    limits = _mapping(where, spec, "limits")
    value = limits.get("timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ReplayError(f"{where}.limits.timeout is {value!r}, not a number of seconds.")
    return float(value)


def _check_bindings(path: Path, steps: Mapping[str, StepSpec], inputs: Mapping[str, Any]) -> None:
    """Every input bound to a step output names an existing step and output, every input bound
    to a job input names one of the job's inputs; no cycle."""
    for step in steps.values():
        for port, source in step.inputs.items():
            if isinstance(source, JobInput) and source.name not in inputs:
                raise ReplayError(
                    f"{path}: jobs.{step.name}.inputs.{port} reads input {source.name!r} of the "
                    f"job, which the job does not have: {RECOMPILE}."
                )
            if not isinstance(source, StepOutputInput):
                continue
            producer = steps.get(source.step)
            if producer is None or source.port not in producer.outputs:
                raise ReplayError(
                    f"{path}: jobs.{step.name}.inputs.{port} reads output {source.port!r} of step "
                    f"{source.step!r}, which the job does not have: {RECOMPILE}."
                )
    try:
        TopologicalSorter({name: step.upstream for name, step in steps.items()}).prepare()
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ReplayError(
            f"{path}: steps read each other's outputs in a cycle ({cycle})."
        ) from None


def _code_folder(path: Path, jobs: dict[str, Any]) -> Path | None:
    """The one code folder the steps upload, resolved from the file's folder; ``None`` if none."""
    codes = {spec.get("code") for spec in jobs.values()}
    if codes == {None}:
        return None
    if len(codes) > 1 or not all(isinstance(code, str) for code in codes):
        raise ReplayError(
            f"{path}: steps upload different code folders ({sorted(map(str, codes))}); the local "
            f"replay takes one code snapshot per run: {RECOMPILE}."
        )
    (code,) = codes
    folder = (path.parent / code).resolve()
    if not folder.is_dir():
        raise ReplayError(
            f"{path}: the code folder {code!r} ({folder}) does not exist; compile the job from "
            "the project it belongs to, or move the file back next to it."
        )
    return folder
