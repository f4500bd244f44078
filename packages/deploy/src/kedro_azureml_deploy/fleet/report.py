"""What a fleet run shows: the table, the JSON report, and per repository its diff and the body
of its pull request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from kedro_azureml_deploy.fleet.status import RepositoryStatus
from kedro_azureml_deploy.fleet.update import UpdateResult


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: columns as wide as their widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def status_table(statuses: Sequence[RepositoryStatus]) -> str:
    rows = [
        (s.name, s.recorded or "-", s.latest or "-", s.state, "; ".join(s.problems))
        for s in statuses
    ]
    return table(("repository", "recorded", "latest", "state", "problems"), rows)


def _checks_cell(result: UpdateResult) -> str:
    if not result.checks:
        return "-"
    failed = [check.name for check in result.checks if not check.passed]
    return "passed" if not failed else "failed: " + ", ".join(failed)


def update_table(results: Sequence[UpdateResult]) -> str:
    rows = [
        (
            r.name,
            f"{r.from_release or '?'} -> {r.to_release or '?'}",
            r.status,
            str(len(r.changed) + len(r.added) + len(r.deleted)),
            str(len(r.conflicts)),
            _checks_cell(r),
            r.message,
        )
        for r in results
    ]
    header = ("repository", "from -> to", "status", "changed", "conflicts", "checks", "note")
    return table(header, rows)


def pull_request_body(result: UpdateResult) -> str:
    """The pull request of ``result``'s branch, in Markdown."""
    lines = [
        f"# Update to the kedro-azureml template {result.to_release}",
        "",
        f"From `{result.from_release}` to `{result.to_release}` of `{result.template}`, made by "
        "`kedro-azureml fleet update` with `copier update --skip-answered --defaults`.",
        "",
        "## Template changes",
        "",
        *([f"- {change}" for change in result.template_changes] or ["(not listed)"]),
        "",
        "## Files",
        "",
        f"{len(result.changed)} changed, {len(result.added)} added, {len(result.deleted)} deleted.",
        "",
        "## Conflicts",
        "",
    ]
    if result.conflicts:
        lines.append("Resolve the conflict markers (`<<<<<<<`) in these files before merging:")
        lines += ["", *(f"- `{name}`" for name in result.conflicts)]
    else:
        lines.append("None.")
    lines += ["", "## Checks", ""]
    if not result.checks:
        lines.append("Not run (`--no-checks`).")
    for check in result.checks:
        lines.append(f"- {'passed' if check.passed else 'FAILED'}: {check.name}")
        if not check.passed and check.detail:
            lines += ["", "  ```", *(f"  {line}" for line in check.detail.splitlines()), "  ```"]
    return "\n".join(lines) + "\n"


def write_report(path: Path, results: Sequence[UpdateResult]) -> None:
    """The JSON report at ``path``; beside it, ``<name>.diff`` and ``<name>.pr.md`` for each
    repository that changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = []
    for result in results:
        entry = result.to_json()
        if result.diff:
            diff = path.parent / f"{result.name}.diff"
            body = path.parent / f"{result.name}.pr.md"
            diff.write_text(result.diff, encoding="utf-8")
            body.write_text(pull_request_body(result), encoding="utf-8")
            entry.update(diff_file=diff.name, pull_request_file=body.name)
        entries.append(entry)
    path.write_text(json.dumps({"repositories": entries}, indent=2) + "\n", encoding="utf-8")
