"""MkDocs hook: the tables of docs/reference/compatibility.md, from what the tests really ran.

Each run of ``scripts/supported_versions.py`` (and each locked suite of ``./scripts/test``) leaves
``.azureml-local/versions/<run>.json``: the versions it installed and its pytest outcome. A run
with such a result is shown from it ("this checkout"); any other from the committed
docs/reference/compatibility.json, which ``scripts/supported_versions.py snapshot`` writes. The
declared ranges come from the packages' pyproject.toml, each with the comment on its line.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGE = "reference/compatibility.md"
MARKER = "<!-- compatibility-tables (rendered by docs/compatibility_hook.py) -->"
RESULTS = ROOT / ".azureml-local" / "versions"
SNAPSHOT = ROOT / "docs" / "reference" / "compatibility.json"
RUN_ORDER = (
    "runtime-lowest",
    "deploy-lowest",
    "mlflow-lowest",
    "runtime-locked",
    "workspace-locked",
    "runtime-highest",
)
PACKAGES = {"kedro-azureml-runtime": "packages/runtime", "kedro-azureml-deploy": "packages/deploy"}


def load_runs(results: Path = RESULTS, snapshot: Path = SNAPSHOT) -> dict[str, dict[str, Any]]:
    """Each recorded run by name, with ``source``: this checkout's results over the snapshot."""
    runs: dict[str, dict[str, Any]] = {}
    if snapshot.is_file():
        for name, run in json.loads(snapshot.read_text()).items():
            runs[name] = {**run, "source": "committed snapshot"}
    for path in sorted(results.glob("*.json")) if results.is_dir() else []:
        runs[path.stem] = {**json.loads(path.read_text()), "source": "this checkout"}
    return dict(sorted(runs.items(), key=lambda item: _order(item[0])))


def declared_ranges(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """(package, requirement, reason) for each dependency the packages declare, extras included."""
    rows = []
    for package, folder in PACKAGES.items():
        text = (root / folder / "pyproject.toml").read_text()
        project = tomllib.loads(text)["project"]
        requirements = list(project.get("dependencies", []))
        for extra, items in project.get("optional-dependencies", {}).items():
            requirements += [(item, extra) for item in items]
        for item in requirements:
            requirement, extra = item if isinstance(item, tuple) else (item, None)
            line = re.search(rf'"{re.escape(requirement)}",?[ \t]*(?:#[ \t]*(.*))?$', text, re.M)
            reason = (line.group(1) or "").strip() if line else ""
            where = f"{package}[{extra}]" if extra else package
            rows.append((where, requirement, reason))
    return rows


def render(runs: dict[str, dict[str, Any]], ranges: list[tuple[str, str, str]]) -> str:
    lines = ["### What the tests ran", ""]
    if not runs:
        lines.append("No run is recorded: run `./scripts/test`.")
    else:
        names = list(runs)
        lines.append("| | " + " | ".join(runs[name]["title"] for name in names) + " |")
        lines.append("|---" * (len(names) + 1) + "|")
        lines.append("| resolution | " + " | ".join(_resolution(runs[n]) for n in names) + " |")
        lines.append(
            "| Python | " + " | ".join(runs[n]["versions"]["python"] for n in names) + " |"
        )
        tracked = [key for key in runs[names[0]]["versions"] if key != "python"]
        for key in tracked:
            cells = [runs[name]["versions"].get(key) or "-" for name in names]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        lines.append("| tests | " + " | ".join(_tests(runs[name]) for name in names) + " |")
        lines.append("| outcome | " + " | ".join(_outcome(runs[name]) for name in names) + " |")
        lines.append(
            "| recorded | "
            + " | ".join(f"{runs[n]['recorded']}, {runs[n]['source']}" for n in names)
            + " |"
        )
    lines += ["", "### What the packages declare", "", "| package | requirement | why this bound |"]
    lines.append("|---|---|---|")
    lines += [f"| `{package}` | `{req}` | {reason} |" for package, req, reason in ranges]
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    return markdown.replace(MARKER, render(load_runs(), declared_ranges()))


def _order(name: str) -> int:
    return RUN_ORDER.index(name) if name in RUN_ORDER else len(RUN_ORDER)


def _resolution(run: dict[str, Any]) -> str:
    return {"lowest-direct": "lowest", "highest": "newest", "locked": "uv.lock"}.get(
        run["resolution"], run["resolution"]
    )


def _tests(run: dict[str, Any]) -> str:
    tests = ", ".join(f"`{path}`" for path in run["tests"])
    return f"{tests} (`-k {run['select']}`)" if run.get("select") else tests


def _outcome(run: dict[str, Any]) -> str:
    if not run.get("ran"):
        return "same versions as uv.lock: not run again"
    counts = run.get("outcome", {})
    parts = [
        f"{counts[key]} {key}"
        for key in ("passed", "failed", "errors", "skipped")
        if counts.get(key)
    ]
    code = run.get("exit_code")
    status = {0: "passed", 5: "no test selected"}.get(code, f"FAILED (exit {code})")
    extra = f", pytest {' '.join(run['pytest_args'])}" if run.get("pytest_args") else ""
    return f"{status}: {', '.join(parts) or 'no test'}{extra}"
