"""What a plan page (``kedro azureml plan --html``, a run's ``plan.html``) shows, read back."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class PlanPage(HTMLParser):
    """Each node's state (``data-state`` of its ``<g data-node>``) and every link of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[str, str] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "g" and "data-node" in attrs:
            self.states[attrs["data-node"]] = attrs["data-state"]
        if tag == "a":
            self.links.append(attrs["href"])


def read_page(path: Path) -> PlanPage:
    page = PlanPage()
    page.feed(Path(path).read_text(encoding="utf-8"))
    return page
