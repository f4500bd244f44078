"""The module map of docs/explanation/architecture.md lists exactly the modules of both packages."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "explanation" / "architecture.md"
ENTRY = re.compile(r"^- `(?P<path>kedro_azureml_(?:runtime|deploy)/[^`]*)`: \S", re.MULTILINE)


def mapped() -> list[str]:
    section = PAGE.read_text(encoding="utf-8").split("## Module map", 1)[1]
    return [match["path"] for match in ENTRY.finditer(section)]


def tree() -> set[str]:
    """Each package as ``name/`` and each other module as its path, below packages/*/src."""
    found = set()
    for source in (ROOT / "packages").glob("*/src"):
        for path in source.rglob("*.py"):
            relative = path.relative_to(source)
            if path.name == "__init__.py":
                found.add(f"{relative.parent.as_posix()}/")
            else:
                found.add(relative.as_posix())
    return found


def test_the_module_map_lists_every_module_once():
    entries = mapped()
    assert len(entries) == len(set(entries)), "a module is listed twice"
    listed, actual = set(entries), tree()
    assert not actual - listed, f"add to the module map: {sorted(actual - listed)}"
    assert not listed - actual, f"no longer in the tree: {sorted(listed - actual)}"
