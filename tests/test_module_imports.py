"""Every module of both packages imports on its own, and the deploy package's layers only point down.

Each module is imported in a fresh interpreter of its own, so an import that only works because
another module happened to be imported first (a circle broken by import order) fails here. The
layer test reads the import statements of the deploy package and fails on a circle, or on an import
that runs up the layers described in docs/explanation/architecture.md.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "kedro_azureml_runtime": ROOT / "packages/runtime/src",
    "kedro_azureml_deploy": ROOT / "packages/deploy/src",
}


def package_modules(package: str) -> list[str]:
    """Every module under ``package``'s source folder, by dotted name."""
    source = SOURCES[package]
    names = []
    for path in sorted((source / package).rglob("*.py")):
        parts = path.relative_to(source).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


ALL_MODULES = [name for package in SOURCES for name in package_modules(package)]


def _import_alone(module: str) -> tuple[str, int, str]:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
        check=False,
    )
    return module, result.returncode, result.stderr.strip().splitlines()[-1:]


def test_there_are_modules_to_import():
    assert "kedro_azureml_deploy.cli" in ALL_MODULES or any(
        name.startswith("kedro_azureml_deploy.cli.") for name in ALL_MODULES
    )
    assert "kedro_azureml_runtime.execute" in ALL_MODULES


def test_every_module_imports_alone_in_a_fresh_interpreter():
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(_import_alone, ALL_MODULES))
    failed = [f"{module}: {error}" for module, code, error in results if code != 0]
    assert not failed, "\n".join(failed)


# -- layers of the deploy package ------------------------------------------------------------------

DEPLOY = "kedro_azureml_deploy"

#: The deploy package's layers, bottom first: a module may import its own layer and those below.
LAYERS: list[set[str]] = [
    {"", "errors", "versions", "local_folder", "lazy_names", "user_cache"},  # "": the package
    {"config"},
    {"compiler", "plan_page"},
    {"project", "mlflow_config", "snapshot", "source_tags"},
    {"doctor"},
    {"project_jobs"},
    {"azure", "replay", "adoption", "fleet"},
    {"dry_run"},
    {"cli"},
]


def _part(module: str) -> str:
    """The top-level part of the deploy package ``module`` belongs to (``compiler`` for
    ``kedro_azureml_deploy.compiler.naming``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"{DEPLOY}.{part} is in no layer: add it to LAYERS")


def deploy_imports() -> dict[str, set[str]]:
    """Each deploy module and the deploy modules it imports (at any depth in the file: a lazy
    import inside a function is still a dependency)."""
    graph: dict[str, set[str]] = {}
    known = set(package_modules(DEPLOY))
    for module in known:
        path = SOURCES[DEPLOY] / Path(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            imported |= {name for name in names if name in known and name != module}
        graph[module] = imported
    return graph


def test_deploy_package_has_no_import_circle():
    graph = deploy_imports()
    # Lazy imports inside functions count too, except a package's __init__ naming its own members.
    edges = {
        module: {
            target
            for target in targets
            if not (target.startswith(module + ".") and module.count(".") < target.count("."))
        }
        for module, targets in graph.items()
    }
    try:
        TopologicalSorter(edges).prepare()
    except CycleError as exc:
        pytest.fail(f"import circle: {' -> '.join(exc.args[1])}")


def test_deploy_layers_only_point_down():
    upward = []
    for module, targets in deploy_imports().items():
        for target in targets:
            if _layer(_part(target)) > _layer(_part(module)):
                upward.append(f"{module} imports {target}")
    assert not upward, "\n".join(sorted(upward))


PURE_COMPILER_FORBIDDEN = ("project", "snapshot", "doctor", "mlflow_config", "azure", "replay")


def test_the_compiler_imports_neither_the_project_nor_the_snapshot_doctor_or_mlflow():
    offenders = [
        f"{module} imports {target}"
        for module, targets in deploy_imports().items()
        if _part(module) == "compiler"
        for target in targets
        if _part(target) in PURE_COMPILER_FORBIDDEN
    ]
    assert not offenders, "\n".join(offenders)


#: What only ``azure/`` may import: the modules that sign in and send requests.
TALKS_TO_AZURE = ("azure.identity", "azure.core", "azure.storage", "azure.ai.ml.MLClient")


def test_only_the_azure_package_imports_what_talks_to_azure():
    """Credentials, clients and requests come from ``azure/`` only. Elsewhere azure-ai-ml's
    offline pieces are allowed (the compiled job loads itself with ``load_job``)."""
    offenders = []
    for module in package_modules(DEPLOY):
        if _part(module) == "azure":
            continue
        path = SOURCES[DEPLOY] / Path(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            offenders += [
                f"{module} imports {name}"
                for name in names
                if any(name == banned or name.startswith(banned + ".") for banned in TALKS_TO_AZURE)
            ]
    assert not offenders, "\n".join(offenders)


def test_the_replay_package_s_names_stay_the_documented_ones_whatever_was_imported():
    """``from kedro_azureml_deploy.replay import replay_job`` is the function, also once the
    package's modules were imported on their own: a package attribute (lazy or not) named as one
    of its modules becomes that module when the module is imported."""
    program = (
        "import pkgutil, importlib\n"
        "import kedro_azureml_deploy.replay as replay\n"
        "for module in pkgutil.iter_modules(replay.__path__):\n"
        "    importlib.import_module(f'kedro_azureml_deploy.replay.{module.name}')\n"
        "from kedro_azureml_deploy.replay import replay_job\n"
        "print(callable(replay_job), type(replay_job).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "function"]
