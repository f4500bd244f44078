"""`copier copy` straight from this checkout renders the template files as they are on disk.

Copier renders from git: with ``--vcs-ref HEAD`` and a local template whose working tree is dirty,
copier 9 commits the dirty tree in its temporary clone ("Dirty template changes included
automatically"), so uncommitted template changes are rendered too. This pins that behaviour,
which lets a developer try template changes before committing them, and shows that the snapshot
the other tests render from is the same template.
"""

from __future__ import annotations

import pytest
import yaml
from template_testing import REPO_ROOT, RenderedProject, git, run_copier

pytestmark = pytest.mark.slow


def test_copy_from_the_checkout_renders_what_the_snapshot_renders(tmp_path, render_scenario):
    dirty = git(REPO_ROOT, "status", "--porcelain", "--", "copier.yml", "templates").strip()
    destination = tmp_path / "my-project"

    result = run_copier(
        "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", str(REPO_ROOT), str(destination),
        cwd=tmp_path,
    )  # fmt: skip

    if dirty:
        assert "Dirty template changes included automatically" in result.stderr
    from_checkout = RenderedProject(destination, {})
    from_snapshot = render_scenario("defaults")
    assert from_checkout.files() == from_snapshot.files()
    # the template version differs (a tag in the snapshot, a commit here): so do the answers
    # file and the version specifiers of the kedro-azureml packages
    for name in sorted(from_checkout.files() - {".copier-answers.yml", "pyproject.toml"}):
        assert from_checkout.read(name) == from_snapshot.read(name), name
    answers = yaml.safe_load(from_checkout.read(".copier-answers.yml"))
    assert answers["_src_path"] == str(REPO_ROOT)
    assert answers["_commit"]
