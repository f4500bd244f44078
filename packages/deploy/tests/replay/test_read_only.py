"""Read-only inputs: write bits removed and restored, and a fingerprint that sees any write."""

from __future__ import annotations

import os
import stat

import pytest

from kedro_azureml_deploy.replay.read_only import (
    fingerprint,
    make_read_only,
    make_writable,
    remove_folder,
)


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "output"
    (path / "part").mkdir(parents=True)
    (path / "data.pickle").write_bytes(b"1234")
    (path / "part" / "0.csv").write_text("a,b\n")
    return path


def writable(path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & stat.S_IWUSR)


@pytest.mark.parametrize(
    "write",
    [
        lambda p: (p / "new.txt").write_text("x"),
        lambda p: (p / "part" / "0.csv").write_text("a,b,c\n"),
        lambda p: (p / "data.pickle").unlink(),
        lambda p: (p / "part" / "sub").mkdir(),
        lambda p: os.utime(p / "data.pickle", ns=(0, 0)),
    ],
    ids=["create", "rewrite", "delete", "mkdir", "touch"],
)
def test_the_fingerprint_changes_with_any_write(folder, write):
    before = fingerprint(folder)
    write(folder)
    assert fingerprint(folder) != before


def test_the_fingerprint_is_stable_when_nothing_changes(folder):
    assert fingerprint(folder) == fingerprint(folder)
    assert fingerprint(folder / "missing") is None
    assert fingerprint(folder / "data.pickle") == fingerprint(folder / "data.pickle")


def test_read_only_removes_every_write_bit_and_writable_restores_the_owner_s(folder):
    make_read_only(folder)
    entries = [folder, *folder.rglob("*")]
    assert not any(stat.S_IMODE(p.stat().st_mode) & 0o222 for p in entries)

    make_writable(folder)
    assert all(writable(p) for p in entries)


def test_remove_folder_deletes_read_only_trees(folder):
    make_read_only(folder)
    remove_folder(folder)
    assert not folder.exists()
    remove_folder(folder)  # nothing to do


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_a_read_only_folder_refuses_writes(folder):
    make_read_only(folder)
    try:
        with pytest.raises(PermissionError):
            (folder / "new.txt").write_text("x")
    finally:
        make_writable(folder)
