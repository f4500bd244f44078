"""The documented commands run as written.

Convention (docs/how-to/contribute.md): a fenced ``bash`` or ``console`` block right after a line
``<!-- runnable -->`` is run by this test. Every line of a ``bash`` block is a command; in a
``console`` block, the lines that start with ``$ `` are. The runnable blocks of one page run in
order, in one shell started in an empty scratch folder (so a ``cd`` carries over), offline from
Azure, with ``KEDRO_AZUREML_CLONE`` set to this checkout: the docs use it wherever a reader uses
their clone of kedro-azureml. A block that stops working fails the suite, with its page and line.

A how-to page solves a task in an existing project, so its runnable blocks start inside the project
the first-project tutorial makes (``PROJECT_SETUP``: the template with its defaults, job
``default``, committed to git, installed with ``uv sync`` and its environment activated, as the
how-to pages assume when they write ``kedro azureml ...``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARKER = "<!-- runnable -->"
FENCE = re.compile(r"^```(?P<lang>bash|console)\s*$")
#: Pages a newcomer follows from start to end: each must have runnable blocks.
NEWCOMER_PAGES = ("getting-started.md", "tutorials/first-project.md")
#: How-to pages whose task can be done offline: each must have runnable blocks. The others need
#: Azure (authenticate, submit for real), an MLflow server or a newer template release, and say so.
HOW_TO_PAGES = (
    "how-to/compile-and-inspect.md",
    "how-to/replay-locally.md",
    "how-to/submit-and-schedule.md",
)
#: Where a how-to page's blocks start: the first-project tutorial's project (its blocks 1 to 3).
PROJECT_SETUP = (
    'uvx copier copy --trust --defaults --data kedro_azureml_source="$KEDRO_AZUREML_CLONE" '
    '"$KEDRO_AZUREML_CLONE" my-project >/dev/null 2>&1',
    "cd my-project",
    "git init -q && git add . && git commit -qm 'Start from the kedro-azureml template'",
    "uv sync -q",
    "source .venv/bin/activate",
)
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Docs Test",
    "GIT_AUTHOR_EMAIL": "docs@example.invalid",
    "GIT_COMMITTER_NAME": "Docs Test",
    "GIT_COMMITTER_EMAIL": "docs@example.invalid",
}


@dataclass(frozen=True)
class Block:
    """A runnable block: where it is, and its commands."""

    page: str
    line: int
    commands: tuple[str, ...]


def runnable_blocks(page: Path) -> list[Block]:
    """The runnable blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER or index + 1 >= len(lines):
            continue
        fence = FENCE.match(lines[index + 1].strip())
        assert fence, (
            f"{page.name}:{index + 1}: {MARKER} must come right before a bash/console block"
        )
        body = []
        for text in lines[index + 2 :]:
            if text.strip().startswith("```"):
                break
            body.append(text)
        if fence["lang"] == "console":
            commands = [text.strip()[2:] for text in body if text.strip().startswith("$ ")]
        else:
            commands = [text for text in body if text.strip() and not text.strip().startswith("#")]
        relative = page.relative_to(DOCS).as_posix()
        blocks.append(Block(relative, index + 3, tuple(commands)))
    return blocks


def test_the_newcomer_and_offline_how_to_pages_have_runnable_blocks():
    for name in (*NEWCOMER_PAGES, *HOW_TO_PAGES):
        assert runnable_blocks(DOCS / name), f"docs/{name} marks no block {MARKER}"


def test_only_the_pages_the_test_runs_mark_blocks_runnable():
    marked = {
        page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md") if runnable_blocks(page)
    }
    assert marked <= {*NEWCOMER_PAGES, *HOW_TO_PAGES}, (
        f"add to HOW_TO_PAGES (or NEWCOMER_PAGES) in {Path(__file__).name}, or the blocks never "
        f"run: {sorted(marked - {*NEWCOMER_PAGES, *HOW_TO_PAGES})}"
    )


def _script(blocks: list[Block], *, setup: tuple[str, ...] = ()) -> str:
    """One bash script running every block, saying which one fails."""
    parts = ["set -euo pipefail"]
    if setup:
        parts.append("echo '>>> the project of the first-project tutorial' >&2")
        parts.extend(setup)
    for block in blocks:
        where = f"docs/{block.page}, the block at line {block.line}"
        parts.append(f"echo '>>> {where}' >&2")
        # `set -e` lets a failure pass inside `a && b`: each command line must succeed as a whole.
        parts.extend(f"{{ {command}\n}} || exit $?" for command in _commands(block.commands))
    return "\n".join(parts) + "\n"


HEREDOC = re.compile(r"<<-?\s*(['\"]?)(?P<word>\w+)\1")


def _commands(lines: list[str]) -> list[str]:
    """The block's command lines, a here-document kept whole with the line that opens it."""
    commands: list[str] = []
    lines = list(lines)
    while lines:
        command = lines.pop(0)
        if opened := HEREDOC.search(command):
            body = []
            while lines:
                body.append(lines.pop(0))
                if body[-1].strip() == opened["word"]:
                    break
            command = "\n".join([command, *body])
        commands.append(command)
    return commands


@pytest.mark.slow
@pytest.mark.parametrize("page", [*NEWCOMER_PAGES, *HOW_TO_PAGES])
def test_the_documented_commands_run_as_written(page, tmp_path):
    blocks = runnable_blocks(DOCS / page)
    setup = PROJECT_SETUP if page.startswith("how-to/") else ()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {
        **os.environ,
        **GIT_IDENTITY,
        "KEDRO_AZUREML_CLONE": str(ROOT),
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "HOME": str(tmp_path / "home"),
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
    }
    env.pop("VIRTUAL_ENV", None)  # the docs' uv commands use the project's own environment
    assert shutil.which("uv"), "uv is needed to run the documented commands"

    result = subprocess.run(
        ["bash", "-c", _script(blocks, setup=setup)],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )

    failed_at = [line for line in result.stderr.splitlines() if line.startswith(">>> ")]
    assert result.returncode == 0, (
        f"{failed_at[-1] if failed_at else page} stopped working:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
