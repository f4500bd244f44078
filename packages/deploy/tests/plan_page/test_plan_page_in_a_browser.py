"""The plan page in a real browser: headless Chromium (Debian's package) renders every node, its
state and log link, without a console error. The test fails, never skips, without Chromium
(``scripts/test`` installs it). Screenshots go to the test's tmp folder; their paths are printed.
"""

from __future__ import annotations

import pytest
from headless_chromium import Chromium
from plan_dicts import large_plan, plan_dict

from kedro_azureml_deploy.plan_page import StepProgress, render_plan_page


def fixture_plan() -> tuple[dict, dict[str, StepProgress]]:
    """A spaceflights-like job of eight nodes in six steps, part way through a replay run."""
    plan = plan_dict(
        [
            ("preprocess_companies", ["preprocess_companies_node"], []),
            ("preprocess_shuttles", ["preprocess_shuttles_node"], []),
            (
                "create_model_input_table",
                ["create_model_input_table_node"],
                ["preprocess_companies", "preprocess_shuttles"],
            ),
            (
                "split_and_train",
                ["split_data_node", "train_model_node"],
                ["create_model_input_table"],
            ),
            ("evaluate_model", ["evaluate_model_node"], ["split_and_train"]),
            ("report", ["plot_feature_importance", "write_report"], ["split_and_train"]),
        ]
    )
    plan["steps"][3]["compute"] = "gpu-cluster"
    statuses = {
        "preprocess_companies": StepProgress(
            "completed", duration=4.1, log="preprocess_companies/step.log"
        ),
        "preprocess_shuttles": StepProgress(
            "completed", duration=6.3, log="preprocess_shuttles/step.log"
        ),
        "create_model_input_table": StepProgress(
            "completed", duration=12.0, log="create_model_input_table/step.log"
        ),
        "split_and_train": StepProgress("running", duration=95, log="split_and_train/step.log"),
        "report": StepProgress(
            "failed",
            duration=3,
            log="report/step.log",
            detail="FileNotFoundError: data/08_reporting/feature_importance.png",
        ),
    }
    return plan, statuses


@pytest.fixture
def browser(tmp_path):
    try:
        chromium = Chromium.start(tmp_path)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    with chromium:
        yield chromium


def test_the_page_shows_every_node_its_state_and_log_link_without_console_errors(browser, tmp_path):
    plan, statuses = fixture_plan()
    page_file = tmp_path / "plan.html"
    page_file.write_text(render_plan_page(plan, statuses, run="replay run 20261202-041000-ab12"))

    page = browser.open(page_file)

    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('svg g.node')).map(g => "
        "[g.dataset.node, g.dataset.state, g.getBBox().width > 0])"
    )
    nodes = [node for step in plan["steps"] for node in step["nodes"]]
    assert [name for name, _state, _visible in drawn] == nodes
    assert all(visible for _name, _state, visible in drawn)
    assert dict((name, state) for name, state, _ in drawn) == {
        "preprocess_companies_node": "completed",
        "preprocess_shuttles_node": "completed",
        "create_model_input_table_node": "completed",
        "split_data_node": "running",
        "train_model_node": "running",
        "evaluate_model_node": "queued",
        "plot_feature_importance": "failed",
        "write_report": "failed",
    }
    links = page.evaluate("Array.from(document.querySelectorAll('#nodes a')).map(a => a.href)")
    assert len(links) == 7 and all(link.startswith(page_file.parent.as_uri()) for link in links)
    assert "FileNotFoundError" in page.evaluate("document.querySelector('#nodes').innerText")
    # the search box dims what does not match
    page.evaluate(
        "(() => {const f = document.getElementById('find'); f.value = 'train';"
        "f.dispatchEvent(new Event('input'));})()"
    )
    assert page.evaluate("document.getElementById('found').textContent") == "1 node"
    assert page.evaluate("document.querySelectorAll('.step.dim').length") == 5
    page.evaluate(
        "(() => {const f = document.getElementById('find'); f.value = '';"
        "f.dispatchEvent(new Event('input'));})()"
    )
    assert not page.errors
    shot = page.screenshot(tmp_path / "plan-page.png")
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_a_page_of_200_nodes_renders_without_errors(browser, tmp_path):
    plan = large_plan(200)
    statuses = {
        step["name"]: StepProgress("completed", duration=2.5) for step in plan["steps"][:40]
    }
    page_file = tmp_path / "plan-200.html"
    page_file.write_text(render_plan_page(plan, statuses, live=True))

    page = browser.open(page_file)

    assert page.evaluate("document.querySelectorAll('svg g.node').length") == 200
    # no two drawn boxes overlap, as the browser lays them out
    overlaps = page.evaluate(
        "(() => {const r = Array.from(document.querySelectorAll('rect.box')).map(b => b.getBBox());"
        "let n = 0; for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {"
        "const a = r[i], b = r[j]; if (a.x < b.x + b.width && b.x < a.x + a.width && "
        "a.y < b.y + b.height && b.y < a.y + a.height) n++;} return n;})()"
    )
    assert overlaps == 0
    assert not page.errors
    print(f"screenshot: {page.screenshot(tmp_path / 'plan-page-200.png')}")
