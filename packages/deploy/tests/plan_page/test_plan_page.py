"""The plan page: one self-contained HTML file drawing a plan, with the state of a run."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from plan_dicts import large_plan, plan_dict, spaceflights_plan

from kedro_azureml_deploy.plan_page import StepProgress, lay_out, render_plan_page, write_plan_page
from kedro_azureml_deploy.plan_page.layout import critical_path
from kedro_azureml_deploy.plan_page.step_progress import format_duration


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def test_every_node_is_drawn_in_its_step_with_compute_environment_and_totals():
    plan = spaceflights_plan()
    plan["steps"][2]["compute"] = "gpu-cluster"

    page = parse(render_plan_page(plan))

    steps = [attrs["data-step"] for tag, attrs in page.tags if "data-step" in attrs]
    assert steps == ["preprocess", "features", "train", "evaluate"]
    drawn = [a["data-node"] for t, a in page.tags if t == "g" and "data-node" in a]
    assert drawn == ["preprocess", "features", "train", "evaluate"]
    text = " ".join(page.text)
    assert "gpu-cluster · kedro-env" in text
    assert "4 nodes" in re.sub(r"\s+", " ", text)
    assert "4 steps on the critical path" in re.sub(r"\s+", " ", text)


def test_edges_are_labelled_with_the_datasets_that_cross_them():
    plan = plan_dict([("a", ["a"], []), ("b", ["b"], ["a"])])
    plan["edges"][0]["datasets"] = ["model_input_table", "params_split", "extra_table"]

    html = render_plan_page(plan)

    assert ">model_input_table<" in html and ">params_split<" in html and ">+1 more<" in html
    assert "a → b: model_input_table, params_split, extra_table" in html


def test_states_durations_and_log_links_of_a_run_are_on_every_node():
    plan = spaceflights_plan()
    statuses = {
        "preprocess": StepProgress("completed", duration=3.2, log="preprocess/step.log"),
        "features": StepProgress(
            "failed", duration=75, log="features/step.log", detail="KeyError: 'price'"
        ),
        "train": StepProgress("skipped"),
    }

    page = parse(render_plan_page(plan, statuses, run="run 20261202-0410-ab12"))

    states = {
        a["data-node"]: a["data-state"] for t, a in page.tags if t == "g" and "data-node" in a
    }
    assert states == {
        "preprocess": "completed",
        "features": "failed",
        "train": "skipped",
        "evaluate": "queued",  # left out of the statuses
    }
    links = {a["href"] for t, a in page.tags if t == "a"}
    assert links == {"preprocess/step.log", "features/step.log"}
    text = " ".join(page.text)
    assert "1 min 15 s" in text and "3.2 s" in text
    assert "KeyError: 'price'" in text
    assert "run 20261202-0410-ab12" in text


def test_the_page_fetches_nothing():
    html = render_plan_page(large_plan(60), {"step_000": StepProgress("running")}, live=True)

    page = parse(html)
    assert not [a for t, a in page.tags if t in ("script", "img", "iframe") and a.get("src")]
    assert not [a for t, a in page.tags if t == "link"]
    assert "@import" not in html and "url(http" not in html and "//cdn" not in html
    assert "location.reload" in html  # a live page reloads itself, a finished one does not
    assert "location.reload" not in render_plan_page(large_plan(60), {})


def test_names_are_escaped():
    plan = plan_dict([("a", ["<script>alert(1)</script>"], [])])

    html = render_plan_page(plan, {"a": StepProgress("failed", detail='"><img src=x>')})

    assert "<script>alert" not in html and "<img src=x>" not in html


@pytest.mark.parametrize("nodes", [1, 20, 200, 400])
def test_no_two_boxes_overlap_and_the_page_stays_small(nodes):
    plan = large_plan(nodes)

    layout = lay_out(plan)
    html = render_plan_page(
        plan,
        {
            s["name"]: StepProgress("completed", duration=1.0, log=f"{s['name']}/step.log")
            for s in plan["steps"]
        },
    )

    boxes = list(layout.boxes.values())
    assert len(boxes) == len(plan["steps"])
    overlapping = [
        (a.step, b.step) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)
    ]
    assert not overlapping
    for box in boxes:
        assert box.x >= 0 and box.x + box.width <= layout.width
        assert box.y >= 0 and box.y + box.height <= layout.height
    if nodes == 200:  # readable: a few screens in each direction, not one endless ribbon
        assert layout.width < 12_000 and layout.height < 4_000
        assert len(html.encode()) < 600_000


def test_edges_run_left_to_right_from_upstream_to_downstream():
    plan = large_plan(200)

    layout = lay_out(plan)

    for edge in layout.edges:
        assert layout.boxes[edge.source].x < layout.boxes[edge.target].x


def test_the_critical_path_is_the_longest_chain_of_steps():
    plan = spaceflights_plan()

    assert critical_path(plan["steps"]) == ["preprocess", "features", "train", "evaluate"]
    assert critical_path(plan_dict([("a", ["a"], []), ("b", ["b"], [])])["steps"]) == ["a"]


def test_the_page_is_replaced_atomically(tmp_path):
    target = tmp_path / "page.html"
    write_plan_page(target, "old")

    write_plan_page(target, "new")

    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_durations_read_as_a_person_reads_them():
    assert [format_duration(s) for s in (None, 0.42, 12.4, 185, 3725)] == [
        "",
        "0.4 s",
        "12 s",
        "3 min 05 s",
        "1 h 02 min",
    ]


def test_an_unknown_state_is_refused():
    with pytest.raises(ValueError, match="queued, running, completed, failed, skipped"):
        StepProgress("done")
