"""`kedro-azureml fleet status` and `fleet update` over a fleet of real repositories, rendered
by copier from three releases of this checkout's template, updated by copier in scratch clones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleet_testing import (
    AMLIGNORE_LINE,
    RELEASES,
    SETTINGS_LINE,
    branches,
    edit,
    release_template,
    render_repository,
)
from template_testing import (
    REPO_ROOT,
    commit_all,
    current_python,
    git,
    project_env,
    snapshot_template,
)

from kedro_azureml_deploy.cli.fleet import main
from kedro_azureml_deploy.fleet.repositories import read_repository_list, repositories

OLDEST, MIDDLE, LATEST = RELEASES
BRANCH = f"kedro-azureml/update-{LATEST}"

#: What each repository of the fleet is, and the status `fleet update --no-checks` gives it.
EXPECTED = {
    "oldest": "would-update",
    "middle": "would-update",
    "named": "would-update",
    "current": "current",
    "conflicting": "conflicts",
    "dirty": "blocked",
    "not-templated": "blocked",
    "relative-source": "blocked",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_template(tmp_path_factory.mktemp("fleet-template") / "kedro-azureml")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Path:
    """A folder of eight repositories (see ``EXPECTED``)."""
    folder = tmp_path_factory.mktemp("fleet")
    render_repository(template, folder / "oldest", OLDEST)
    render_repository(template, folder / "middle", MIDDLE)
    render_repository(template, folder / "named", OLDEST, project_name="Sales Forecast")
    render_repository(template, folder / "current", LATEST)
    conflicting = render_repository(template, folder / "conflicting", OLDEST)
    amlignore = conflicting / ".amlignore"
    amlignore.write_text(amlignore.read_text() + "\n# our scratch space\nscratch/\n")
    commit_all(conflicting, "ignore scratch")
    dirty = render_repository(template, folder / "dirty", OLDEST)
    (dirty / "README.md").write_text("work in progress\n")
    plain = folder / "not-templated"
    plain.mkdir()
    (plain / "README.md").write_text("a project of its own\n")
    git(plain, "init", "--quiet", "--initial-branch=main")
    commit_all(plain, "start")
    relative = render_repository(template, folder / "relative-source", OLDEST)
    edit(relative / ".copier-answers.yml", f"_src_path: {template}", "_src_path: ../template")
    commit_all(relative, "a relative template path")
    (folder / "repos.txt").write_text("\n".join(["# the fleet", *EXPECTED]) + "\n")
    return folder


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def snapshot(fleet: Path) -> dict[str, tuple[dict[str, str], str]]:
    """Each repository's branches and working-tree status."""
    return {
        name: (branches(fleet / name), git(fleet / name, "status", "--porcelain"))
        for name in EXPECTED
    }


def test_status_reports_each_repository_release_and_problems(fleet: Path):
    code, output = invoke("fleet", "status", "--repos", str(fleet / "repos.txt"), "--json")

    statuses = {entry["name"]: entry for entry in json.loads(output)}
    assert code == 1  # some are blocked
    assert {name: entry["state"] for name, entry in statuses.items()} == {
        "oldest": "behind",
        "middle": "behind",
        "named": "behind",
        "current": "current",
        "conflicting": "behind",
        "dirty": "blocked",
        "not-templated": "blocked",
        "relative-source": "blocked",
    }
    assert statuses["oldest"]["recorded"] == OLDEST
    assert statuses["middle"]["recorded"] == MIDDLE
    assert {entry["latest"] for entry in statuses.values() if entry["state"] != "blocked"} == {
        LATEST
    }
    assert "uncommitted changes" in statuses["dirty"]["problems"][0]
    assert "no .copier-answers.yml" in statuses["not-templated"]["problems"][0]
    assert "is relative" in statuses["relative-source"]["problems"][0]


def test_status_prints_a_table(fleet: Path):
    code, output = invoke("fleet", "status", str(fleet / "oldest"), str(fleet / "current"))

    assert code == 0
    lines = output.splitlines()
    assert lines[0].split() == ["repository", "recorded", "latest", "state", "problems"]
    assert lines[1].split() == ["oldest", OLDEST, LATEST, "behind"]
    assert lines[2].split() == ["current", LATEST, LATEST, "current"]


def test_status_reads_a_repository_by_git_url(fleet: Path):
    code, output = invoke("fleet", "status", (fleet / "middle").as_uri(), "--json")

    assert code == 0, output
    (entry,) = json.loads(output)
    assert (entry["name"], entry["recorded"], entry["latest"]) == ("middle", MIDDLE, LATEST)


def test_dry_run_reports_every_repository_and_leaves_no_branch(fleet: Path, tmp_path: Path):
    before = snapshot(fleet)
    report = tmp_path / "out" / "report.json"

    code, output = invoke(
        "fleet", "update", "--repos", str(fleet / "repos.txt"), "--dry-run", "--no-checks",
        "--jobs", "2", "--report", str(report),
    )  # fmt: skip

    assert code == 1, output
    results = {entry["name"]: entry for entry in json.loads(report.read_text())["repositories"]}
    assert {name: entry["status"] for name, entry in results.items()} == EXPECTED
    oldest = results["oldest"]
    assert (oldest["from_release"], oldest["to_release"]) == (OLDEST, LATEST)
    assert {".amlignore", ".copier-answers.yml", "src/my_project/settings.py"} <= set(
        oldest["changed"]
    )
    assert oldest["added"] == [".editorconfig"]
    assert results["middle"]["template_changes"] == ["settings note and .editorconfig"]
    assert results["conflicting"]["conflicts"] == [".amlignore"]
    diff = (report.parent / oldest["diff_file"]).read_text()
    assert "+" + AMLIGNORE_LINE in diff and "+" + SETTINGS_LINE in diff
    body = (report.parent / results["conflicting"]["pull_request_file"]).read_text()
    assert "- `.amlignore`" in body and "Not run (`--no-checks`)" in body
    # the table: one row per repository
    rows = {line.split()[0]: line for line in output.splitlines()[1:] if line.strip()}
    assert rows["conflicting"].split()[1:5] == [OLDEST, "->", LATEST, "conflicts"]
    # nothing changed in any repository: no branch, the same default branch, the same tree
    assert snapshot(fleet) == before


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    return render_repository(template, tmp_path / "sales", OLDEST)


def test_update_commits_on_a_branch_and_replaces_it_on_a_rerun(project: Path, tmp_path: Path):
    main_before = branches(project)["main"]
    report = tmp_path / "report.json"

    code, output = invoke("fleet", "update", str(project), "--no-checks", "--report", str(report))

    assert code == 0, output
    assert json.loads(report.read_text())["repositories"][0]["status"] == "updated"
    after = branches(project)
    assert after["main"] == main_before
    assert git(project, "branch", "--show-current").strip() == "main"
    assert not git(project, "status", "--porcelain")
    assert git(project, "rev-parse", f"{BRANCH}^").strip() == main_before
    assert SETTINGS_LINE in git(project, "show", f"{BRANCH}:src/my_project/settings.py")
    assert f"Kedro-AzureML-Fleet-Update: {LATEST}" in git(
        project, "log", "-1", "--format=%B", BRANCH
    )

    # a new commit on main: the re-run replaces the branch, on top of it
    (project / "NOTES.md").write_text("notes\n")
    commit_all(project, "notes")
    code, output = invoke("fleet", "update", str(project), "--no-checks", "--report", str(report))

    assert code == 0, output
    assert git(project, "rev-parse", f"{BRANCH}^").strip() == branches(project)["main"]


def test_update_never_replaces_a_branch_holding_someone_elses_work(project: Path, tmp_path: Path):
    report = str(tmp_path / "report.json")
    invoke("fleet", "update", str(project), "--no-checks", "--report", report)
    git(project, "switch", "--quiet", BRANCH)
    (project / "FIX.md").write_text("resolved by hand\n")
    commit_all(project, "my fix")
    git(project, "switch", "--quiet", "main")
    mine = branches(project)[BRANCH]

    code, output = invoke("fleet", "update", str(project), "--no-checks", "--report", report)

    assert code == 1
    assert "commits not made by kedro-azureml fleet" in output
    assert branches(project)[BRANCH] == mine


def test_update_never_commits_on_the_default_branch(project: Path, tmp_path: Path):
    before = branches(project)

    code, output = invoke(
        "fleet", "update", str(project), "--no-checks", "--branch", "main",
        "--report", str(tmp_path / "report.json"),
    )  # fmt: skip

    assert code == 1
    assert "is the default branch" in output
    assert branches(project) == before


def test_push_sends_the_branch_to_the_remote(project: Path, tmp_path: Path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(project), str(remote))
    git(project, "remote", "add", "origin", str(remote))

    code, output = invoke(
        "fleet", "update", str(project), "--no-checks", "--push", "origin",
        "--report", str(tmp_path / "report.json"),
    )  # fmt: skip

    assert code == 0, output
    assert branches(remote)[BRANCH] == branches(project)[BRANCH]
    assert branches(remote)["main"] == branches(project)["main"]


def test_update_to_an_explicit_release(project: Path, tmp_path: Path):
    report = tmp_path / "report.json"
    code, output = invoke(
        "fleet", "update", str(project), "--no-checks", "--to", MIDDLE, "--report", str(report)
    )

    assert code == 0, output
    assert f"kedro-azureml/update-{MIDDLE}" in branches(project)
    entry = json.loads(report.read_text())["repositories"][0]
    assert entry["to_release"] == MIDDLE and entry["added"] == []


def test_a_template_at_a_git_url_lists_its_changes(template: Path, tmp_path: Path):
    published = tmp_path / "kedro-azureml.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(template), str(published))
    project = render_repository(published.as_uri(), tmp_path / "sales", MIDDLE)
    report = tmp_path / "report.json"

    code, output = invoke(
        "fleet", "update", str(project), "--no-checks", "--dry-run", "--report", str(report)
    )

    assert code == 0, output
    entry = json.loads(report.read_text())["repositories"][0]
    assert entry["template"] == published.as_uri()
    assert entry["template_changes"] == ["settings note and .editorconfig"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fleet", "update"], "no repository given"),
        (["fleet", "status", "--repos", "missing.txt"], "cannot read the repository list"),
        (["fleet", "update", ".", "--dry-run", "--push", "origin"], "--dry-run pushes nothing"),
    ],
)
def test_user_errors_are_one_line(args: list[str], message: str):
    result = CliRunner().invoke(main, args)

    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and message in result.output
    assert "Traceback" not in result.output


def test_repository_names_never_leave_their_folder(tmp_path: Path):
    listing = tmp_path / "repos.txt"
    listing.write_text("../../etc\nhttps://example.com/a/..\ngit@host:team/sales.git\nsales\n")

    found = repositories(read_repository_list(listing))

    names = [repository.name for repository in found]
    assert names == ["etc", "repository", "sales", "sales-2"]
    assert all("/" not in name and ".." not in name for name in names)


def test_the_console_script_and_the_cli_reference_name_the_fleet():
    from importlib.metadata import entry_points

    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "kedro-azureml"]
    assert script.value == "kedro_azureml_deploy.cli.fleet:main"
    page = (REPO_ROOT / "docs" / "reference" / "cli.md").read_text()
    assert ":module: kedro_azureml_deploy.cli.fleet\n    :command: fleet\n" in page


@pytest.mark.slow
def test_checks_run_in_the_updated_copy_and_fail_on_a_broken_project(
    template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Both projects install kedro-azureml from this checkout; uv uses this interpreter's Python.
    for key, value in project_env().items():
        monkeypatch.setenv(key, value)
    answers = {"python_version": current_python(), "kedro_azureml_source": str(REPO_ROOT)}
    healthy = render_repository(template, tmp_path / "healthy", MIDDLE, **answers)
    pinned = render_repository(template, tmp_path / "pinned", MIDDLE, **answers)
    # a test of the user's own that the new release breaks
    (pinned / "tests" / "test_settings.py").write_text(
        "from pathlib import Path\n\n\ndef test_settings_are_ours():\n"
        "    settings = Path(__file__).parents[1] / 'src' / 'my_project' / 'settings.py'\n"
        "    assert 'kedro-azureml template' not in settings.read_text()\n"
    )
    commit_all(pinned, "a test of our settings")
    report = tmp_path / "report.json"

    code, output = invoke("fleet", "update", str(healthy), str(pinned), "--report", str(report))

    assert code == 1, output
    results = {entry["name"]: entry for entry in json.loads(report.read_text())["repositories"]}
    healthy_checks = {check["name"]: check["passed"] for check in results["healthy"]["checks"]}
    assert results["healthy"]["status"] == "updated", results["healthy"]
    assert healthy_checks == {"uv sync": True, "tests": True, "compile": True, "doctor": True}
    assert results["pinned"]["status"] == "checks-failed"
    failed = [check for check in results["pinned"]["checks"] if not check["passed"]]
    assert [check["name"] for check in failed] == ["tests"]
    assert "test_settings_are_ours" in failed[0]["detail"]
    body = (tmp_path / results["pinned"]["pull_request_file"]).read_text()
    assert "- FAILED: tests" in body


def test_a_release_with_a_migration_needs_trust(tmp_path: Path):
    from test_update import release_next_template_version

    template = snapshot_template(tmp_path / "template", tag="v0.1.0")
    project = render_repository(template, tmp_path / "sales", "v0.1.0")
    release_next_template_version(template)  # v0.2.0, with a migration of azureml.yml
    report = tmp_path / "report.json"

    code, output = invoke("fleet", "update", str(project), "--no-checks", "--report", str(report))

    assert code == 1
    assert "pass --trust" in json.loads(report.read_text())["repositories"][0]["message"]
    assert "kedro-azureml/update-v0.2.0" not in branches(project)

    code, output = invoke(
        "fleet", "update", str(project), "--no-checks", "--trust", "--report", str(report)
    )

    assert code == 0, output
    azureml = git(project, "show", "kedro-azureml/update-v0.2.0:conf/base/azureml.yml")
    assert "retries: 1" in azureml
