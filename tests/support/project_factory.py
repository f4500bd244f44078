"""Build small, real Kedro projects on disk for tests and benchmarks.

Standard library only: the runtime's isolated suite imports this module in an environment that has
neither the deploy package nor azure-ai-ml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

KEDRO_INIT_VERSION = "1.0.0"


@dataclass
class NodeSpec:
    """One node of a generated pipeline.

    ``func`` names a function in the generated ``nodes.py``: built-ins are ``identity`` (first
    input out, or the ``seed`` parameter), ``add_one``, ``join`` (sums its inputs), ``fail`` (raises
    ``RuntimeError``) and ``write_report``; ``extra_functions`` of ``KedroProject`` may add more.
    """

    name: str
    func: str
    inputs: Sequence[str] = ()
    outputs: Sequence[str] = ()
    tags: Sequence[str] = ()
    namespace: str | None = None


BUILTIN_FUNCTIONS = """
def identity(*inputs):
    return inputs[0] if inputs else 1


def add_one(value):
    return value + 1


def join(*values):
    return sum(values)


def fail(*_inputs):
    raise RuntimeError("this node fails on purpose")


def write_report(value):
    return {"value": value}
"""


@dataclass
class KedroProject:
    """A Kedro 1.x project written to ``path`` by :meth:`write`."""

    path: Path
    package: str = "demo_project"
    nodes: Sequence[NodeSpec] = ()
    catalog: Mapping[str, object] = field(default_factory=dict)
    parameters: Mapping[str, object] = field(default_factory=lambda: {"seed": 1})
    settings: str = ""
    extra_functions: str = ""
    extra_files: Mapping[str, str] = field(default_factory=dict)

    def write(self) -> KedroProject:
        src = self.path / "src" / self.package
        for folder in (
            src / "pipelines",
            self.path / "conf" / "base",
            self.path / "conf" / "local",
        ):
            folder.mkdir(parents=True, exist_ok=True)
        files = {
            "pyproject.toml": self._pyproject(),
            f"src/{self.package}/__init__.py": '"""A project made by the test factory."""\n',
            f"src/{self.package}/settings.py": self.settings,
            f"src/{self.package}/pipeline_registry.py": self._registry(),
            f"src/{self.package}/pipelines/__init__.py": "",
            f"src/{self.package}/pipelines/nodes.py": BUILTIN_FUNCTIONS + self.extra_functions,
            "conf/base/catalog.yml": _yaml(self.catalog),
            "conf/base/parameters.yml": _yaml(self.parameters),
            "conf/local/.gitkeep": "",
            **self.extra_files,
        }
        for relative, content in files.items():
            target = self.path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        return self

    def _pyproject(self) -> str:
        return textwrap.dedent(
            f"""\
            [project]
            name = "{self.package.replace("_", "-")}"
            version = "0.1.0"
            requires-python = ">=3.11"

            [tool.kedro]
            package_name = "{self.package}"
            project_name = "{self.package}"
            kedro_init_version = "{KEDRO_INIT_VERSION}"
            source_dir = "src"
            """
        )

    def _registry(self) -> str:
        lines = [
            "from kedro.pipeline import Pipeline, node",
            "",
            f"from {self.package}.pipelines import nodes as f",
            "",
            "",
            "def register_pipelines():",
            "    pipeline = Pipeline([",
        ]
        for spec in self.nodes:
            inputs = _node_io(spec.inputs)
            outputs = _node_io(spec.outputs)
            lines.append(
                f"        node(f.{spec.func}, {inputs}, {outputs}, name={spec.name!r}, "
                f"tags={list(spec.tags)!r}, namespace={spec.namespace!r}),"
            )
        lines += ["    ])", '    return {"__default__": pipeline, "main": pipeline}', ""]
        return "\n".join(lines)

    def execute(
        self,
        *nodes: str,
        inputs: Mapping[str, object] | None = None,
        outputs: Mapping[str, object] | None = None,
        args: Sequence[str] = (),
        **kwargs: object,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``kedro azureml execute`` for ``nodes``, mounting ``inputs`` and ``outputs``
        (dataset name to folder); ``args`` are extra options, ``kwargs`` go to :meth:`kedro`."""
        command = ["azureml", "execute"]
        for name in nodes:
            command += ["--node", name]
        for option, mounts in (("--az-input", inputs), ("--az-output", outputs)):
            for dataset, folder in (mounts or {}).items():
                command += [option, dataset, str(folder)]
        return self.kedro(*command, *args, **kwargs)  # type: ignore[arg-type]

    def kedro(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        python: str | os.PathLike[str] | None = None,
        check: bool = False,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m kedro ARGS`` in the project, with telemetry off; never raises on failure
        unless ``check``."""
        return run_kedro(self.path, *args, env=env, python=python, check=check, timeout=timeout)


def run_kedro(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    python: str | os.PathLike[str] | None = None,
    check: bool = False,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kedro ARGS`` in ``cwd`` with telemetry off."""
    full_env = {**os.environ, **quiet_kedro_env(), **(env or {})}
    result = subprocess.run(
        [str(python or sys.executable), "-m", "kedro", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kedro {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def quiet_kedro_env() -> dict[str, str]:
    """Environment variables that keep Kedro from asking or reporting anything."""
    return {
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }


def chain(n: int, *, dataset_type: str | None = None) -> tuple[list[NodeSpec], dict[str, object]]:
    """``n`` nodes where node i reads the output of node i-1; intermediates of ``dataset_type``."""
    nodes = [NodeSpec("node_0", "identity", ["params:seed"], ["d_0"])]
    nodes += [NodeSpec(f"node_{i}", "add_one", [f"d_{i - 1}"], [f"d_{i}"]) for i in range(1, n)]
    catalog: dict[str, object] = {}
    if dataset_type:
        catalog = {f"d_{i}": pipeline_dataset(f"d_{i}.pkl", dataset_type) for i in range(n)}
    return nodes, catalog


def default_azureml_config(jobs: Mapping[str, object], **sections: object) -> dict[str, object]:
    """A valid ``azureml.yml`` as a dictionary: one placeholder workspace, a ``cpu-cluster``
    compute and the ``kedro-env@latest`` environment, plus ``sections`` (which replace those) and
    ``jobs``."""
    return {
        "workspace": {
            "__default__": {
                "subscription_id": "00000000-0000-0000-0000-000000000000",
                "resource_group": "rg-demo",
                "name": "ws-demo",
            }
        },
        "compute": {"__default__": {"cluster_name": "cpu-cluster"}},
        "environment": {"__default__": {"name": "kedro-env@latest"}},
        **sections,
        "jobs": dict(jobs),
    }


def azureml_yml(jobs: Mapping[str, object], **sections: object) -> str:
    """:func:`default_azureml_config` as the text of ``conf/base/azureml.yml`` (JSON is YAML)."""
    return json.dumps(default_azureml_config(jobs, **sections), indent=2) + "\n"


def pipeline_dataset(filepath: str, wrapped: str = "pickle.PickleDataset") -> dict[str, object]:
    """A catalog entry for an ``AzureMLPipelineDataset`` wrapping ``wrapped``."""
    return {
        "type": "kedro_azureml_runtime.datasets.AzureMLPipelineDataset",
        "dataset": {"type": wrapped, "filepath": filepath},
    }


def recording_hooks_settings(log_file: str) -> tuple[str, str]:
    """``settings.py`` and a ``hooks.py`` body registering a hook that appends every call to
    ``log_file`` (one JSON line each), plus ``tryfirst`` and ``trylast`` markers."""
    hooks = textwrap.dedent(
        f"""\
        import json
        import os

        from kedro.framework.hooks import hook_impl

        LOG = os.environ.get("HOOK_LOG", {log_file!r})


        def _record(name, **details):
            with open(LOG, "a") as stream:
                stream.write(json.dumps({{"hook": name, **details}}) + "\\n")


        class RecordingHooks:
            @hook_impl
            def after_context_created(self, context):
                _record("after_context_created")

            @hook_impl
            def after_catalog_created(self, catalog):
                _record("after_catalog_created")

            @hook_impl
            def before_pipeline_run(self, run_params, pipeline, catalog):
                _record("before_pipeline_run", nodes=sorted(n.name for n in pipeline.nodes))

            @hook_impl
            def before_node_run(self, node):
                _record("before_node_run", node=node.name)

            @hook_impl
            def before_dataset_loaded(self, dataset_name, node):
                _record("before_dataset_loaded", dataset=dataset_name)

            @hook_impl
            def after_dataset_loaded(self, dataset_name, data, node):
                _record("after_dataset_loaded", dataset=dataset_name)

            @hook_impl
            def before_dataset_saved(self, dataset_name, data, node):
                _record("before_dataset_saved", dataset=dataset_name)

            @hook_impl
            def after_dataset_saved(self, dataset_name, data, node):
                _record("after_dataset_saved", dataset=dataset_name)

            @hook_impl
            def after_node_run(self, node, outputs):
                _record("after_node_run", node=node.name)

            @hook_impl
            def on_node_error(self, error, node):
                _record("on_node_error", node=node.name)

            @hook_impl
            def after_pipeline_run(self, run_params, pipeline, catalog):
                _record("after_pipeline_run")

            @hook_impl
            def on_pipeline_error(self, error, run_params, pipeline, catalog):
                _record("on_pipeline_error")


        class FirstHooks:
            @hook_impl(tryfirst=True)
            def before_node_run(self, node):
                _record("tryfirst.before_node_run", node=node.name)


        class LastHooks:
            @hook_impl(trylast=True)
            def before_node_run(self, node):
                _record("trylast.before_node_run", node=node.name)
        """
    )
    settings = "from .hooks import FirstHooks, LastHooks, RecordingHooks\n\n"
    settings += "HOOKS = (FirstHooks(), RecordingHooks(), LastHooks())\n"
    return settings, hooks


def read_hook_log(path: Path) -> list[dict[str, object]]:
    """The calls a recording hook wrote, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _node_io(names: Iterable[str]) -> str:
    names = list(names)
    if not names:
        return "None"
    return repr(names[0]) if len(names) == 1 else repr(names)


def _yaml(data: Mapping[str, object]) -> str:
    """YAML for the config files: JSON is valid YAML and needs no third-party writer."""
    if not data:
        return "{}\n"
    return (
        "\n".join(f"{json.dumps(key)}: {json.dumps(value)}" for key, value in data.items()) + "\n"
    )
