"""The secret scan keeps what it found per file in the user's cache: a file unchanged since the
last scan under the same settings is not scanned again, nothing is written into the project, and
nothing in the cache can hide a secret (a changed file, other settings, a link or a broken cache
mean a scan).

Real detect-secrets on real files; the keys planted here are built at run time, so no
secret-looking text is committed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from kedro_azureml_deploy.snapshot.secret_scan import (
    SecretFound,
    cache_file,
    package_digest,
    scan_files,
)

AWS_KEY_ID = "AKIA" + "Q3RZ7XWN4M2KTB5P"
LEAK = SecretFound(PurePosixPath("src/settings_export.py"), 2, "AWS Access Key")


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "kedro-azureml"


def project_with_files(root: Path) -> tuple[Path, list[PurePosixPath]]:
    files = {
        "src/settings_export.py": f"import os\nKEY = {AWS_KEY_ID!r}\n",
        "src/pipeline.py": "def run():\n    return 1\n",
        "conf/base/parameters.yml": "n: 1\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root, [PurePosixPath(name) for name in files]


def scan(root: Path, files: list[PurePosixPath]):
    return scan_files(root, root, files)


def test_an_unchanged_file_is_not_scanned_again_and_its_secret_is_still_reported(tmp_path):
    root, files = project_with_files(tmp_path / "project")
    before = sorted(root.rglob("*"))

    first = scan(root, files)
    second = scan(root, files)

    assert first.secrets == second.secrets == (LEAK,)
    assert (first.scanned, first.from_cache) == (3, 0)
    assert (second.scanned, second.from_cache) == (3, 3)
    assert sorted(root.rglob("*")) == before  # nothing written into the project
    assert AWS_KEY_ID not in cache_file(root).read_text()  # kinds and hashes, no values


def test_a_changed_file_is_scanned_again_whichever_way_it_changed(tmp_path):
    root, files = project_with_files(tmp_path / "project")
    scan(root, files)

    (root / "src/settings_export.py").write_text(
        f"import os\nKEY = {AWS_KEY_ID!r}  # pragma: allowlist secret\n"
    )
    (root / "src/pipeline.py").write_text(f"def run():\n    return {AWS_KEY_ID!r}\n")
    after = scan(root, files)

    assert after.from_cache == 1
    assert after.secrets == (SecretFound(PurePosixPath("src/pipeline.py"), 2, "AWS Access Key"),)


def test_other_scan_settings_do_not_use_the_results_of_the_earlier_ones(tmp_path):
    root, files = project_with_files(tmp_path / "project")
    scan(root, files)
    baseline = {
        "version": "1.5.0",
        "plugins_used": [{"name": "AWSKeyDetector"}],
        "filters_used": [],
        "results": {},
        "generated_at": "2026-01-01T00:00:00Z",
    }
    (root / ".secrets.baseline").write_text(json.dumps(baseline))

    with_baseline = scan(root, files)
    again = scan(root, files)

    assert (with_baseline.from_cache, with_baseline.secrets) == (0, (LEAK,))
    assert again.from_cache == 3


def test_a_cache_that_is_a_link_or_broken_is_not_believed(tmp_path):
    root, files = project_with_files(tmp_path / "project")
    scan(root, files)
    cache = cache_file(root)
    forged = json.loads(cache.read_text())
    forged["files"]["src/settings_export.py"]["secrets"] = []  # "nothing here"
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps(forged))
    cache.unlink()
    cache.symlink_to(outside)

    through_link = scan(root, files)

    assert (through_link.from_cache, through_link.secrets) == (0, (LEAK,))
    assert not cache.is_symlink() and json.loads(outside.read_text()) == forged  # replaced

    cache.write_text('{"format": 1, "files": ')
    assert (scan(root, files).from_cache, scan(root, files).secrets) == (0, (LEAK,))


def test_another_project_at_the_same_place_is_not_given_the_old_ones_results(tmp_path):
    root, files = project_with_files(tmp_path / "project")
    scan(root, files)
    cache = cache_file(root)
    data = json.loads(cache.read_text())
    data["project"] = str(tmp_path / "another")
    cache.write_text(json.dumps(data))

    assert scan(root, files).from_cache == 0


def test_where_the_cache_cannot_be_written_every_scan_is_a_full_one(tmp_path, user_cache):
    root, files = project_with_files(tmp_path / "project")
    user_cache.mkdir(parents=True)
    (user_cache / "secret-scan").write_text("not a folder")

    first = scan(root, files)
    second = scan(root, files)

    assert first.secrets == second.secrets == (LEAK,)
    assert second.from_cache == 0


def test_editing_a_filter_the_baseline_names_means_a_fresh_scan(tmp_path):
    root, files = project_with_files(tmp_path / "project")
    rules = tmp_path / "rules.py"
    rules.write_text("def hides_everything(secret):\n    return True\n")
    baseline = {
        "version": "1.5.0",
        "plugins_used": [{"name": "AWSKeyDetector"}],
        "filters_used": [{"path": f"file://{rules}::hides_everything"}],
        "results": {},
        "generated_at": "2026-01-01T00:00:00Z",
    }
    (root / ".secrets.baseline").write_text(json.dumps(baseline))
    assert scan(root, files).secrets == ()

    rules.write_text("def hides_everything(secret):\n    return False\n")
    edited = scan(root, files)

    assert (edited.from_cache, edited.secrets) == (0, (LEAK,))


def test_a_file_changed_while_it_is_scanned_is_not_cached_under_its_old_content(
    tmp_path, monkeypatch
):
    from detect_secrets import SecretsCollection

    root, files = project_with_files(tmp_path / "project")
    leaking = (root / "src/settings_export.py").read_text()
    original = SecretsCollection.scan_file

    def edited_just_before(self, filename):  # the user saves another version meanwhile
        if filename == "src/settings_export.py":
            (root / filename).write_text("KEY = None\n")
        return original(self, filename)

    monkeypatch.setattr(SecretsCollection, "scan_file", edited_just_before)
    scan(root, files)
    monkeypatch.setattr(SecretsCollection, "scan_file", original)
    (root / "src/settings_export.py").write_text(leaking)  # back to the content first hashed

    assert scan(root, files).secrets == (LEAK,)


def test_a_relative_cache_folder_is_ignored_and_nothing_lands_in_the_project(tmp_path, monkeypatch):
    root, files = project_with_files(tmp_path / "project")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", ".cache")
    monkeypatch.chdir(root)
    before = sorted(root.rglob("*"))

    scan(root, files)

    assert sorted(root.rglob("*")) == before
    assert cache_file(root).is_relative_to(tmp_path / "home" / ".cache")


def test_a_scan_whose_files_are_all_cached_does_not_import_detect_secrets(tmp_path):
    """Without a baseline, a scan of unchanged files takes its results from the cache without
    importing detect-secrets (the key of its default settings is worked out from its files)."""
    root, files = project_with_files(tmp_path / "project")
    scan(root, files)  # fills the cache
    program = (
        "import sys\n"
        "from pathlib import Path, PurePosixPath\n"
        "from kedro_azureml_deploy.snapshot.secret_scan import scan_files\n"
        f"root = Path({str(root)!r})\n"
        f"found = scan_files(root, root, [PurePosixPath(f) for f in {[str(f) for f in files]!r}])\n"
        "print(found.from_cache, [str(s.path) for s in found.secrets])\n"
        "print('detect_secrets' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )

    assert result.stdout.splitlines() == ["3 ['src/settings_export.py']", "False"]

    (root / "src/pipeline.py").write_text(f"def run():\n    return {AWS_KEY_ID!r}\n")
    assert scan(root, files).from_cache == 2  # a changed file is scanned, with detect-secrets


def test_the_default_settings_key_changes_with_any_file_of_the_package(tmp_path):
    package = tmp_path / "detect_secrets"
    (package / "plugins").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "plugins" / "aws.py").write_text("PATTERN = 'AKIA'\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    before = package_digest(package)

    (package / "__pycache__" / "x.pyc").write_bytes(b"recompiled")
    assert package_digest(package) == before  # bytecode is not what runs the scan
    (package / "plugins" / "aws.py").write_text("PATTERN = 'ASIA'\n")
    assert package_digest(package) != before
    (package / "plugins" / "aws.py").write_text("PATTERN = 'AKIA'\n")
    assert package_digest(package) == before
    (package / "plugins" / "new.py").write_text("")
    assert package_digest(package) != before
    linked = tmp_path / "linked"  # uv's symlink link mode: every file a link into its cache
    (linked / "plugins").mkdir(parents=True)
    for name in ("__init__.py", "plugins/aws.py", "plugins/new.py"):
        (linked / name).symlink_to(package / name)
    assert package_digest(linked) == package_digest(package)
    (package / "__init__.py").unlink()
    with pytest.raises(OSError):
        package_digest(package)  # nothing that could be detect-secrets: no key from it


def test_a_baseline_that_appears_during_a_scan_does_not_change_what_it_caches(
    tmp_path, monkeypatch
):
    """The scan decides once whether there is a baseline; a baseline written meanwhile (here:
    while it works out the default settings' key) must not have its settings' results kept
    under the default settings' key, where a later scan without it would find them."""
    from kedro_azureml_deploy.snapshot import secret_scan

    root, files = project_with_files(tmp_path / "project")
    baseline = {
        "version": "1.5.0",
        "plugins_used": [{"name": "PrivateKeyDetector"}],  # would not see the AWS key
        "filters_used": [],
        "results": {},
    }
    real_key = secret_scan._default_settings_key

    def key_then_a_baseline() -> str | None:
        (root / ".secrets.baseline").write_text(json.dumps(baseline))
        return real_key()

    monkeypatch.setattr(secret_scan, "_default_settings_key", key_then_a_baseline)
    during = scan(root, files)
    monkeypatch.setattr(secret_scan, "_default_settings_key", real_key)
    (root / ".secrets.baseline").unlink()
    after = scan(root, files)

    assert during.secrets == after.secrets == (LEAK,)
