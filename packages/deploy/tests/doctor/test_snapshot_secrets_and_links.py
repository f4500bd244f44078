"""What the code snapshot would send is checked before anything leaves the machine: secrets found
by content are doctor errors (with the file, the line and the fix), links out of the project are
warnings naming the link and its target, and a link loop stops no command.

The keys planted here are built at run time, so no secret-looking text is committed.
"""

from __future__ import annotations

from project_factory import KedroProject, NodeSpec, azureml_yml, pipeline_dataset

AWS_KEY_ID = "AKIA" + "Q3RZ7XWN4M2KTB5P"


def small_project(make_project, extra_files: dict[str, str] | None = None) -> KedroProject:
    return make_project(
        nodes=[NodeSpec("report", "write_report", ["params:n"], ["report"])],
        catalog={"report": pipeline_dataset("report.json", "json.JSONDataset")},
        extra_files={
            "conf/base/azureml.yml": azureml_yml({"default": {}}),
            "conf/base/parameters.yml": "n: 1\n",
            **(extra_files or {}),
        },
    )


def test_secret_in_an_uploaded_file_is_an_error_naming_file_line_and_fix_until_allowlisted(
    make_project, tmp_path
):
    project = small_project(
        make_project, {"scripts/export.py": f"import os\nKEY = {AWS_KEY_ID!r}\n"}
    )
    (tmp_path / "passwd").write_text("root:x:0:0")
    (project.path / "scripts" / "passwd").symlink_to(tmp_path / "passwd")

    result = project.kedro("azureml", "doctor")

    assert result.returncode == 1
    assert (
        "error: scripts/export.py:2: detect-secrets finds a secret (AWS Access Key) in a file "
        "the code upload would send to Azure ML" in result.stdout
    )
    assert "`# pragma: allowlist secret`" in result.stdout and ".secrets.baseline" in result.stdout
    assert (
        f"warning: scripts/passwd: a symbolic link to {tmp_path / 'passwd'}, outside the project: "
        "it is left out of the code snapshot" in result.stdout
    )
    compiled = project.kedro("azureml", "compile")
    assert compiled.returncode == 1 and "scripts/export.py:2" in compiled.stderr
    assert "Traceback" not in compiled.stderr

    allowed = f"import os\nKEY = {AWS_KEY_ID!r}  # pragma: allowlist secret\n"
    (project.path / "scripts" / "export.py").write_text(allowed)
    assert project.kedro("azureml", "doctor").returncode == 0


def test_a_link_loop_and_a_dangling_link_stop_neither_the_dry_run_nor_the_local_run(make_project):
    project = small_project(make_project)
    (project.path / "src" / "loop").symlink_to("..", target_is_directory=True)
    (project.path / "src" / "gone").symlink_to(project.path / "nowhere")

    dry_run = project.kedro("azureml", "run", "--dry-run")
    local = project.kedro("azureml", "run", "--local")

    assert dry_run.returncode == 0, dry_run.stderr
    assert "src/loop/" in dry_run.stdout and "src/gone" in dry_run.stdout
    assert local.returncode == 0, local.stderr
    assert "Traceback" not in local.stderr + dry_run.stderr
