"""The plan page: one self-contained HTML file drawing a job's plan, with how far a run got.

Pure: it takes the plan dictionary (``JobPlan.to_dict()``, what ``kedro azureml plan --format
json`` prints) and the state of each step, and returns HTML. Nothing here reads the project, a run
or Azure ML; the replay and the ``status`` command turn their runs into :class:`StepProgress`.

    from kedro_azureml_deploy.plan_page import StepProgress, render_plan_page

    html = render_plan_page(plan, {"train": StepProgress("running", log="train/step.log")})
"""

from kedro_azureml_deploy.plan_page.html_page import render_plan_page, write_plan_page
from kedro_azureml_deploy.plan_page.layout import Layout, lay_out
from kedro_azureml_deploy.plan_page.step_progress import PAGE_STATES, StepProgress

__all__ = [
    "PAGE_STATES",
    "Layout",
    "StepProgress",
    "lay_out",
    "render_plan_page",
    "write_plan_page",
]
