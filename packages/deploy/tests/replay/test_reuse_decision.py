"""``forecast_step`` and ``forecast``: reused, runs again because …, always runs because …"""

from __future__ import annotations

import json

from kedro_azureml_deploy.replay.compiled_file import read_compiled_file
from kedro_azureml_deploy.replay.fingerprint import StepFingerprint
from kedro_azureml_deploy.replay.reuse import (
    Earlier,
    Fingerprinter,
    Verdict,
    forecast,
    forecast_step,
    save_code_manifest,
)
from kedro_azureml_deploy.replay.run_store import RunStore, StepStatus
from kedro_azureml_deploy.replay.step_reads import JobReads, StepReads, step_command

BASE = StepFingerprint(
    command="c", environment_variables="e", inputs={"table": "t"}, code="k",
    files={"inputs/companies.csv": "f"}, parameters={"model_options.test_size": "p"},
    interpreter="i",
)  # fmt: skip


def changed(**fields) -> StepFingerprint:
    return StepFingerprint(**{**BASE.to_json(), **fields})


SEES_ALL = StepReads()


def decide(now, earlier=BASE, reads=SEES_ALL, **options):
    record = Earlier("run1", True, earlier, options.pop("earlier_code", None))
    return forecast_step(now, record, reads=reads, known_reads_required=False, **options)


def test_an_unchanged_step_is_reused_and_each_change_is_named():
    assert decide(BASE).describe() == "reused from run run1"
    assert decide(BASE).describe(run_id="run1") == "reused"
    assert decide(changed(files={"inputs/companies.csv": "g"})).describe() == (
        "runs again because inputs/companies.csv changed"
    )
    assert decide(changed(parameters={"model_options.test_size": "q"})).reasons == (
        "parameter model_options.test_size changed",
    )
    code = decide(
        changed(code="k2"),
        earlier_code={"src/p/nodes.py": "1", "conf/base/catalog.yml": "2"},
        code={"src/p/nodes.py": "3", "conf/base/catalog.yml": "2"},
    )
    assert code.reasons == ("code changed: src/p/nodes.py",)
    both = decide(changed(inputs={"table": "u"}, interpreter="j"), input_names={"table": "x"})
    assert both.reasons == (
        "input table changed (x)",
        "the Python environment changed (interpreter or installed distributions)",
    )


def test_a_step_reading_what_the_fingerprint_cannot_see_always_runs():
    unseen = StepReads(unseen=("companies (SQLTableDataset: remote storage or no file)",))
    decision = decide(BASE, reads=unseen)
    assert decision.verdict is Verdict.ALWAYS_RUNS
    assert decision.describe().startswith("always runs because it reads or writes companies")
    unknown = forecast_step(BASE, None, reads=None, known_reads_required=True, cached=True)
    assert unknown.verdict is Verdict.ALWAYS_RUNS  # reuse across runs needs to know the reads


def test_a_step_that_did_not_succeed_or_was_not_fingerprinted_runs():
    failed = forecast_step(BASE, Earlier("r", False, BASE), reads=None, known_reads_required=False)
    assert failed.describe() == "runs again because it did not succeed in run r"
    old = forecast_step(BASE, Earlier("r", True, None), reads=None, known_reads_required=False)
    assert old.describe() == "runs again because run r recorded no fingerprint of it"


def test_the_nodes_of_a_step_come_from_its_compiled_command():
    command = step_command(
        "cd /app && kedro azureml execute --pipeline main --node a --node b "
        "--params '{\"x\": 1}' --az-input t ${{inputs.t}} --az-output m ${{outputs.m}}"
    )
    assert command.nodes == ("a", "b") and command.pipeline == "main"
    assert command.params == {"x": 1} and command.inputs == (("t", "${{inputs.t}}"),)
    assert step_command("python train.py") is None


def test_forecast_compares_a_job_with_an_earlier_run_step_by_step(tmp_path):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "companies.csv").write_text("a,b\n")
    step = lambda name, **spec: {"type": "command", "code": ".", "command": name, **spec}  # noqa: E731
    job = {
        "type": "pipeline",
        "jobs": {
            "first": step("one", outputs={"o": {"type": "uri_folder"}}),
            "second": step("two ${{inputs.i}}", inputs={"i": "${{parent.jobs.first.outputs.o}}"}),
            "third": step("three"),
        },
    }
    (tmp_path / "job.yml").write_text(json.dumps(job))
    compiled = read_compiled_file(tmp_path / "job.yml")
    run = RunStore(tmp_path / "runs").create(compiled.path, compiled.text, list(compiled.steps))
    (run.output_folder("first", "o")).mkdir(parents=True)
    reads = JobReads(
        steps={
            "first": StepReads(files=("inputs/companies.csv",)),
            "second": StepReads(),
            "third": StepReads(unseen=("db (SQLQueryDataset: remote storage or no file)",)),
        },
        leave_out=frozenset({"inputs/companies.csv"}),
    )
    snapshot = {"inputs/companies.csv": "x", "job.yml": "y"}
    fingerprinter = Fingerprinter(snapshot, reads, tmp_path / "no-python", tmp_path)
    save_code_manifest(run, fingerprinter.code)
    for name in ("first", "second"):
        inputs = {"i": run.output_folder("first", "o")} if name == "second" else {}
        run.steps[name].status = StepStatus.SUCCEEDED
        run.steps[name].fingerprint = fingerprinter.of(compiled.steps[name], inputs).to_json()
    run.save()

    unchanged = forecast(compiled, run, fingerprinter)
    assert {n: d.verdict for n, d in unchanged.items()} == {
        "first": Verdict.REUSED, "second": Verdict.REUSED, "third": Verdict.ALWAYS_RUNS,
    }  # fmt: skip

    changed_input = {**snapshot, "inputs/companies.csv": "z"}
    edited = Fingerprinter(changed_input, reads, tmp_path / "no-python", tmp_path)
    decisions = forecast(compiled, run, edited)
    assert decisions["first"].describe() == "runs again because inputs/companies.csv changed"
    assert decisions["second"].describe() == "runs again because upstream step first runs again"
