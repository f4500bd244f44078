"""The code snapshot holds exactly the files a submission would upload: azure-ai-ml's ignore-file
rules, and what the submission always leaves out."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_azureml_deploy.replay import ReplayError
from kedro_azureml_deploy.replay.snapshot import take_snapshot
from kedro_azureml_deploy.snapshot.code_snapshot import code_snapshot

GITIGNORE = """\
# build output
dist/
*.log
!keep.log
data/**/*.csv
/root_only.txt
notes

"""
PROJECT_FILES = [
    "src/pkg/__init__.py",
    "src/pkg/nodes.py",
    "dist/pkg.whl",
    "app.log",
    "keep.log",
    "reports/01/a.csv",
    "reports/01/readme.md",
    "root_only.txt",
    "src/root_only.txt",
    "notes/todo.md",
    "src/notes",
    "conf/base/catalog.yml",
    "src/pkg/data/kept_below_the_root.csv",
]
NEVER_UPLOADED = [
    "conf/local/credentials.yml",
    "conf/base/credentials_prod.yml",
    "data/01_raw/companies.csv",
    ".env",
    "src/.env.local",
    ".venv/lib/site.py",
    "src/.git/HEAD",
    ".azureml-local/runs/x/run.json",
]


def make_tree(
    root: Path, files: list[str], *, amlignore: str | None = None, gitignore: str | None = GITIGNORE
) -> Path:
    for relative in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative)
    if gitignore is not None:
        (root / ".gitignore").write_text(gitignore)
    if amlignore is not None:
        (root / ".amlignore").write_text(amlignore)
    return root


def link_shared_folder(root: Path) -> None:
    outside = root.parent / f"{root.name}-shared"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "lib.py").write_text("shared")
    (outside / "x.log").write_text("shared log")
    (root / "linked").symlink_to(outside, target_is_directory=True)


def listed(source: Path, project: Path | None = None, **options) -> set[str]:
    project = project or source
    snapshot = code_snapshot(project, str(source.relative_to(project)), **options)
    return {relative.as_posix() for relative in snapshot.files}


def azure_upload_list(source: Path) -> set[str]:
    """What azure-ai-ml's code upload lists for ``source``."""
    from azure.ai.ml._utils._asset_utils import get_ignore_file, get_upload_files_from_folder

    source = source.resolve()
    uploaded = get_upload_files_from_folder(source, ignore_file=get_ignore_file(source))
    return {destination for _, destination in uploaded}


IGNORE_CASES = pytest.mark.parametrize(
    "ignore_files",
    [
        {"gitignore": GITIGNORE},
        {"amlignore": "src/\n*.md\n", "gitignore": GITIGNORE},
        {"amlignore": "", "gitignore": GITIGNORE},
        {"gitignore": None},
    ],
    ids=["gitignore", "amlignore-wins", "empty-amlignore", "no-ignore-file"],
)


@IGNORE_CASES
def test_ignore_files_are_applied_as_azure_ai_ml_applies_them(tmp_path, ignore_files):
    source = make_tree(tmp_path / "project", PROJECT_FILES, **ignore_files)
    assert listed(source) == azure_upload_list(source)


def test_snapshot_copies_the_upload_and_leaves_the_runs_folder_and_links_out_of_the_project_out(
    tmp_path,
):
    source = make_tree(tmp_path / "project", PROJECT_FILES)
    link_shared_folder(source)
    runs = source / "replays"
    (runs / "old-run").mkdir(parents=True)
    (runs / "old-run" / "run.json").write_text("{}")

    snapshot = take_snapshot(source, tmp_path / "snapshot", project_path=source, leave_out=runs)

    copied = {
        p.relative_to(snapshot.path).as_posix() for p in snapshot.path.rglob("*") if p.is_file()
    }
    assert copied == listed(source, leave_out=runs)
    assert not any(name.startswith("replays") for name in copied)
    assert not (snapshot.path / "linked").exists(), "a folder outside the project never ships"
    assert not (snapshot.path / "linked").is_symlink()
    assert snapshot.files == len(copied)
    assert snapshot.ignore_file == (source / ".gitignore").resolve()


def test_a_code_folder_with_nothing_to_upload_is_refused(tmp_path):
    source = tmp_path / "project"
    source.mkdir()
    (source / ".amlignore").write_text("*\n")
    with pytest.raises(ReplayError, match="no file left to upload"):
        take_snapshot(source, tmp_path / "snapshot", project_path=source)


def test_a_step_working_copy_never_holds_a_link_out_of_the_snapshot(tmp_path):
    from kedro_azureml_deploy.replay.snapshot import copy_snapshot

    outside = tmp_path / "passwd"
    outside.write_text("root:x:0:0")
    snapshot = make_tree(tmp_path / "snapshot", ["pkg/nodes.py"], gitignore=None)
    (snapshot / "pkg" / "passwd").symlink_to(outside)
    (snapshot / "pkg" / "dangling").symlink_to(tmp_path / "nowhere")
    (snapshot / "pkg" / "loop").symlink_to("..", target_is_directory=True)
    (snapshot / "pkg" / "same.py").symlink_to("nodes.py")

    copy_snapshot(snapshot, tmp_path / "step")

    step = tmp_path / "step" / "pkg"
    assert sorted(p.name for p in step.iterdir()) == ["loop", "nodes.py", "same.py"]
    assert (step / "same.py").read_text() == "pkg/nodes.py", "a link inside still works"
    assert (step / "loop").is_symlink(), "kept as a link, never followed"
