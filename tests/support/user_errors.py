"""Every message the two packages' CLIs can print for an error a user causes, read from the source.

A user error is a ``KedroAzureMLError`` of the deploy package (``ConfigError``, ``CompileError``,
``SubmitError``, ``ReplayError``, ``AdoptionError`` and their subclasses), an ``AzureMLRuntimeError``
of the runtime (``ExecuteError``, ``ParamsError``, ``KeyVaultError``), a click error raised by our own commands
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
        "FleetError",
        "AzureMLRuntimeError",
        "ExecuteError",
        "ParamsError",
        "KeyVaultError",
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
    "kedro_azureml_deploy/azure/reports.py:raise_for_failures": (
        "the failure of one job, or one line per failed job, each collected at its origin"
    ),
    "kedro_azureml_deploy/azure/submission.py:_failed": (
        "a SubmitError collected at its origin, followed by what the submission left behind"
    ),
    "kedro_azureml_deploy/cli/options.py:_typed_input": (
        "parse_params' own --params messages, with --input in their place (the page's --params "
        "section)"
    ),
    "kedro_azureml_deploy/replay/compiled_file.py:with_inputs": (
        "set_input_value's ConfigError for a replay --input, collected at its origin, as a "
        "ReplayError"
    ),
    "kedro_azureml_deploy/config/validation_errors.py:validation_problems": (
        "pydantic's own validation messages, under the key path (the page's config section)"
    ),
    "kedro_azureml_deploy/project_jobs.py:compile_project_job": (
        "doctor's findings, each printed with its fix (the page's compile section)"
    ),
    "kedro_azureml_deploy/replay/snapshot.py:take_snapshot": (
        "the code snapshot's own error, collected at its origin"
    ),
    "kedro_azureml_runtime/cli.py:invoke": "a user error collected at its origin, as one line",
    "kedro_azureml_runtime/step_contract.py:params_callback": (
        "Kedro's own message for a --params value it cannot parse"
    ),
    "kedro_azureml_runtime/step_contract.py:load_versions_callback": (
        "Kedro's own message for a --load-versions value it cannot parse"
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
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = _texts_of(expr.left, function), _texts_of(expr.right, function)
        if left is not None and right is not None:
            return [a + b for a in left for b in right]
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "join"
        and len(expr.args) == 1
    ):
        lines = expr.args[0]
        if isinstance(lines, ast.Name) and function is not None:
            return _appended_texts(lines.id, function)
        return _texts_of(lines, function)
    if isinstance(expr, ast.List):
        texts = []
        for element in expr.elts:
            found = _texts_of(element, function)
            if found is None:
                return None
            texts.extend(found)
        return texts
    if isinstance(expr, ast.Name) and function is None and expr.id in _CONSTANTS:
        return [_CONSTANTS[expr.id]]
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
        if not texts and expr.id in _CONSTANTS:
            return [_CONSTANTS[expr.id]]
        return texts or None
    if isinstance(expr, ast.Call):
        name = _call_name(expr.func)
        definition = _FUNCTIONS.get(name or "")
        if definition is not None:
            return _returned_texts(definition)
    return None


def _appended_texts(
    name: str, function: ast.FunctionDef | ast.AsyncFunctionDef
) -> list[str] | None:
    """The lines of list ``name`` that a message joins: each ``name.append(<text>)``; ``None`` if
    one of them is not a template (the place is then composed, see ``COMPOSED``)."""
    texts = []
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
            and node.args
        ):
            found = _texts_of(node.args[0], function)
            if found is None:
                return None
            texts.extend(found)
    return texts or _texts_of(ast.Name(id=name), function)


_MODULES: list[_Module] = []
_FUNCTIONS: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
_CONSTANTS: dict[str, str] = {}


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
        for node in module.tree.body:
            target = (
                node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            )
            value = (
                _text(node.value)
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value
                else None
            )
            if isinstance(target, ast.Name) and value is not None:
                _CONSTANTS[target.id] = value


def _user_error_classes() -> set[ast.ClassDef]:
    """Our own user-error classes: those deriving from one of ``USER_ERRORS``."""
    return {
        node
        for module in _MODULES
        for node in ast.walk(module.tree)
        if isinstance(node, ast.ClassDef)
        and any(_call_name(base) in USER_ERRORS for base in node.bases)
    }


def _in_class(module: _Module, node: ast.AST, classes: set[ast.ClassDef]) -> bool:
    while node in module.parents:
        node = module.parents[node]
        if isinstance(node, ast.ClassDef):
            return node in classes
    return False


def _constructions() -> Iterator[tuple[_Module, ast.Call, ast.expr | None]]:
    classes = _user_error_classes()
    own = {c.name for c in classes} - USER_ERRORS
    for module in _MODULES:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node.func)
            if name in own:
                continue  # its own __init__ builds the message: read below
            if (
                name == "__init__"
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Call)
                and _call_name(node.func.value.func) == "super"
                and _in_class(module, node, {c for c in classes if c.name in own})
            ) or name in USER_ERRORS:
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
        if message is None or place in COMPOSED:
            continue  # no message of its own, or one composed of messages collected elsewhere
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
