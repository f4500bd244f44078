"""The documentation site builds with ``--strict``: broken links or references fail the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    cli_page = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text()
    assert "kedro azureml execute" in cli_page


def test_every_command_has_a_block_in_the_cli_reference():
    from kedro_azureml_runtime.cli import DEPLOY_COMMANDS

    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    assert ":command: azureml\n" in page  # the group's block documents execute
    missing = [
        name for name in DEPLOY_COMMANDS if f":prog_name: kedro azureml {name}\n" not in page
    ]
    assert not missing, f"add a mkdocs-click block to docs/reference/cli.md for {missing}"
