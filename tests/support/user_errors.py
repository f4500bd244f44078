"""Every message the two packages' CLIs can print for an error a user causes, read from the source.

A user error is a ``KedroAzureMLError`` of the deploy package (``ConfigError``, ``CompileError``,
``SubmitError``, ``ReplayError``, ``AdoptionError`` and their subclasses), an ``AzureMLRuntimeError``
of the runtime (``ExecuteError``, ``ParamsError``), a click error raised by our own commands
(``click.ClickException``, ``click.UsageError``, ``click.BadParameter``), or a ``Problem`` of
``azureml.yml`` (``config/problems.py``), which the CLI prints as ``<key path>: <message>``.

The messages are read from the abstract syntax tree, not by running anything: each place that builds
one of these errors gives a *template*, its text with every interpolated value as ``<name>`` (the
name of the expression: ``f"job `{job_name}` ..."`` gives ``job `<job_name>` ...``). A message built
from a local variable is read from that variable's assignments in the same function; one built by a
function of ours (``network_error_message(...)``) from the strings that function returns.

What cannot be read that way is *composed* from messages collected elsewhere (``str(exc)`` of an
error already collected at its origin, the lines of a list joined together): those places are
listed in ``COMPOSED``, each with the reason, so a new kind of message cannot slip by unseen.

Standard library only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = tuple(sorted((ROOT / "packages").glob("*/src")))

#: The classes whose instances are user errors, by the name the source calls them with.
USER_ERRORS = frozenset(
    {
        "KedroAzureMLError",
        "ConfigError",
        "CompileError",
        "SubmitError",
        "ReplayError",
        "AdoptionError",
        "RunWriteError",
        "AzureMLRuntimeError",
        "ExecuteError",
        "ParamsError",
        "ClickException",
        "UsageError",
        "BadParameter",
        "UsageErrorLine",
    }
)
PROBLEM = "Problem"

#: Places whose message is composed of messages collected elsewhere, as ``module:function`` (the
#: module relative to its ``src`` folder), with the reason. A new such place must be added here.
COMPOSED: dict[str, str] = {
    "kedro_azureml_deploy/cli/info.py:info": "joins Problems, each collected at its origin",
    "kedro_azureml_deploy/config/config_files.py:check_config_files": (
        "joins Problems, each collected at its origin"
    ),
    "kedro_azureml_deploy/config/loader.py:_config_error": (
        "joins the Problems pydantic found, each collected at its origin"
    ),
    "kedro_azureml_deploy/config/validation_errors.py:problems_of": (
        "pydantic's own validation messages, under the key path"
    ),
    "kedro_azureml_deploy/project_jobs.py:load_job": "the doctor's findings, collected below",
    "kedro_azureml_deploy/azure/reports.py:raise_if_failed": "a SubmitError collected at its origin",
    "kedro_azureml_deploy/replay/snapshot.py:snapshot_files": (
        "the snapshot's own error, collected at its origin"
    ),
    "kedro_azureml_runtime/cli.py:invoke": "a user error collected at its origin, as one line",
    "kedro_azureml_runtime/step_contract.py:parse_step_args": (
        "a ValueError of the step contract, collected at its origin"
    ),
}


@dataclass(frozen=True)
class UserErrorMessage:
    """One message a user can meet: its template and where the source builds it."""

    template: str
    where: str  # module:function:line


def _placeholder(expr: ast.expr) -> str:
    if isinstance(expr, ast.Name):
        name = expr.id
    elif isinstance(expr, ast.Attribute):
        name = expr.attr
    elif isinstance(expr, ast.Call):
        name = _placeholder(expr.func).strip("<>")
    elif isinstance(expr, ast.Subscript):
        name = _placeholder(expr.value).strip("<>")
    else:
        name = "value"
    return f"<{name.strip('_').lower()}>"


def _text(expr: ast.expr) -> str | None:
    """The template of a string expression, or ``None`` if it is not one."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        parts = []
        for value in expr.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                assert isinstance(value, ast.FormattedValue)
                parts.append(_placeholder(value.value))
        return "".join(parts)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = _text(expr.left), _text(expr.right)
        if left is not None and right is not None:
            return left + right
    return None


def normalize(text: str) -> str:
    """A template with its whitespace folded, as it is compared with the page."""
    return re.sub(r"\s+", " ", text).strip()


class _Module:
    def __init__(self, path: Path, source: Path) -> None:
        self.name = path.relative_to(source).as_posix()
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _returned_texts(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str] | None:
    """The templates a message function returns (directly, or through a local variable)."""
    texts = []
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            found = _texts_of(node.value, function)
            if found is None:
                return None
            texts.extend(found)
    return texts or None


def _texts_of(
    expr: ast.expr, function: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> list[str] | None:
    text = _text(expr)
    if text is not None:
        return [text]
    if isinstance(expr, ast.IfExp):
        body, orelse = _texts_of(expr.body, function), _texts_of(expr.orelse, function)
        if body is not None and orelse is not None:
            return body + orelse
    if isinstance(expr, ast.Name) and function is not None:
        texts = []
        for node in ast.walk(function):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == expr.id for t in targets):
                    found = _texts_of(node.value, None)
                    if found is None:
                        return None
                    texts.extend(found)
        return texts or None
    if isinstance(expr, ast.Call):
        name = _call_name(expr.func)
        definition = _FUNCTIONS.get(name or "")
        if definition is not None:
            return _returned_texts(definition)
    return None


_MODULES: list[_Module] = []
_FUNCTIONS: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}


def _load() -> None:
    if _MODULES:
        return
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            _MODULES.append(_Module(path, source))
    for module in _MODULES:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                _FUNCTIONS.setdefault(node.name, node)


def _constructions() -> Iterator[tuple[_Module, ast.Call, ast.expr | None]]:
    for module in _MODULES:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node.func)
            if name in USER_ERRORS:
                args = node.args
            elif name == PROBLEM:
                args = node.args[1:]
            else:
                continue
            message = args[0] if args else None
            for keyword in node.keywords:
                if keyword.arg in ("message", "msg"):
                    message = keyword.value
            yield module, node, message


def user_error_messages() -> tuple[list[UserErrorMessage], list[str]]:
    """Every user-error message template, and the places whose message could not be read (neither
    a template nor listed in ``COMPOSED``), as ``module:function:line``."""
    _load()
    messages: list[UserErrorMessage] = []
    unreadable: list[str] = []
    for module, call, message in _constructions():
        function = module.function_of(call)
        place = f"{module.name}:{function.name if function else '<module>'}"
        where = f"{place}:{call.lineno}"
        if message is None:
            continue  # a class statement's base or an error without a message: nothing to show
        texts = _texts_of(message, function)
        if texts is None:
            if place not in COMPOSED:
                unreadable.append(where)
            continue
        messages.extend(UserErrorMessage(text, where) for text in texts)
    return messages, unreadable


def composed_places_in_use() -> set[str]:
    """The ``COMPOSED`` places that still build a user error."""
    _load()
    return {
        f"{module.name}:{function.name}"
        for module, call, _ in _constructions()
        if (function := module.function_of(call)) is not None
    } & set(COMPOSED)
