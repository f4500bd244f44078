"""The runtime's MLflow hook is called before kedro-mlflow's when it must act first (make the step's
run active, tag it) and after it when it ends a run, whatever order the two were registered in.

Kedro registers ``settings.py`` hooks first, then plugins' entry points in the order
``importlib.metadata`` lists distributions, and pluggy calls the last registered first: only
``tryfirst``/``trylast`` make the order certain.
"""

from __future__ import annotations

import pytest
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager

from kedro_azureml_runtime.hooks.mlflow_hook import MlflowAzureMLHook


class KedroMlflowStandIn:
    """The hooks kedro-mlflow 2 implements, without ordering markers (as kedro-mlflow declares
    them)."""

    @hook_impl
    def after_context_created(self, context): ...

    @hook_impl
    def before_pipeline_run(self, run_params, pipeline, catalog): ...

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async): ...

    @hook_impl
    def after_pipeline_run(self, run_params, pipeline, catalog): ...

    @hook_impl
    def on_pipeline_error(self, error, run_params, pipeline, catalog): ...


def call_order(hook_manager, name: str) -> list[str]:
    """Plugin names in the order pluggy calls the implementations of hook ``name``."""
    impls = getattr(hook_manager.hook, name).get_hookimpls()
    return [impl.plugin_name for impl in reversed(impls)]


@pytest.mark.parametrize("ours_registered", ["first", "last"])
def test_the_hook_runs_before_kedro_mlflow_and_ends_runs_after_it(ours_registered):
    hook_manager = _create_hook_manager()
    plugins = [("azureml_mlflow", MlflowAzureMLHook()), ("mlflow_hook", KedroMlflowStandIn())]
    if ours_registered == "last":
        plugins.reverse()
    for name, plugin in plugins:
        hook_manager.register(plugin, name=name)

    for hook in ("after_context_created", "before_pipeline_run"):
        assert call_order(hook_manager, hook) == ["azureml_mlflow", "mlflow_hook"], hook
    for hook in ("after_pipeline_run", "on_pipeline_error"):
        assert call_order(hook_manager, hook) == ["mlflow_hook", "azureml_mlflow"], hook
