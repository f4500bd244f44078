"""The reuse cache: byte-identical outputs by fingerprint key, a size limit, oldest out first."""

from __future__ import annotations

import os

import pytest

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.step_cache import DEFAULT_LIMIT, StepCache, size_limit


def outputs(tmp_path, name: str, content: bytes) -> dict:
    folder = tmp_path / name / "model"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "model.pkl").write_bytes(content)
    (folder / "empty").mkdir()
    return {"model": folder}


def test_restored_outputs_are_byte_identical_with_the_stored_ones(tmp_path):
    cache = StepCache(tmp_path / "cache", limit=10**6)
    stored = outputs(tmp_path, "run1", b"\x00weights\xff" * 100)
    assert cache.store("k1", "train", "run1", stored)
    target = tmp_path / "run2" / "model"
    target.mkdir(parents=True)

    assert cache.restore("k1", {"model": target}) == "run1"
    assert (target / "nested" / "model.pkl").read_bytes() == b"\x00weights\xff" * 100
    assert (target / "empty").is_dir()
    assert cache.restore("unknown", {"model": target}) is None


def test_the_cache_keeps_each_file_once_and_evicts_the_least_recently_used(tmp_path):
    cache = StepCache(tmp_path / "cache", limit=2500)
    for index, key in enumerate(("a", "b")):
        cache.store(key, f"step_{key}", f"run{index}", outputs(tmp_path, key, key.encode() * 1000))
        os.utime(cache.folder / "entries" / f"{key}.json", (1000 + index, 1000 + index))
    cache.store("a2", "step_a", "run9", outputs(tmp_path, "a2", b"a" * 1000))  # same bytes as a
    assert cache.size() == 2000 and len(cache.entries()) == 3
    os.utime(cache.folder / "entries" / "a2.json", (900, 900))  # a2 is now the oldest

    cache.store("c", "step_c", "run3", outputs(tmp_path, "c", b"c" * 1000))

    assert [entry.key for entry in cache.entries()] == ["b", "c"]  # a and a2 went first
    assert cache.size() == 2000
    assert not cache.store("big", "huge", "run4", outputs(tmp_path, "big", b"x" * 3000))
    assert cache.clear() == 2 and cache.entries() == [] and cache.size() == 0


def test_the_size_limit_is_set_by_an_environment_variable():
    assert size_limit({}) == DEFAULT_LIMIT == 2 * 2**30
    assert size_limit({"KEDRO_AZUREML_CACHE_SIZE": "500MB"}) == 500 * 10**6
    assert size_limit({"KEDRO_AZUREML_CACHE_SIZE": "1GiB"}) == 2**30
    assert size_limit({"KEDRO_AZUREML_CACHE_SIZE": "0"}) == 0
    with pytest.raises(ReplayError, match="KEDRO_AZUREML_CACHE_SIZE='lots' is not a size"):
        size_limit({"KEDRO_AZUREML_CACHE_SIZE": "lots"})
