"""Doctor warns about ``--params`` keys that no parameter of the project defines."""

from __future__ import annotations

from project_factory import NodeSpec, azureml_yml, pipeline_dataset


def test_a_params_key_no_parameter_defines_is_a_warning_naming_the_closest(make_project):
    project = make_project(
        nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])],
        catalog={"out": pipeline_dataset("out.pkl")},
        parameters={"seed": 1, "model": {"depth": 3}},
        extra_files={"conf/base/azureml.yml": azureml_yml({"default": {}})},
    )

    typo = project.kedro("azureml", "doctor", "--params", "sed=3,model.depth=4")
    known = project.kedro("azureml", "doctor", "--params", "seed=3,model.depth=4")

    assert typo.returncode == 0  # a warning: --strict makes it stop the command
    assert "warning: --params sed: no parameter of conf/base is called `sed`" in (typo.stdout)
    assert "(did you mean `seed`?)" in typo.stdout
    assert "model.depth" not in typo.stdout
    assert "--params" not in known.stdout, known.stdout
    assert project.kedro("azureml", "doctor", "--strict", "--params", "sed=3").returncode == 1


def test_compile_reports_an_unknown_params_key_as_doctor_does(make_project):
    project = make_project(
        nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])],
        catalog={"out": pipeline_dataset("out.pkl")},
        parameters={"seed": 1},
        extra_files={"conf/base/azureml.yml": azureml_yml({"default": {}})},
    )
    line = "warning: --params sed: no parameter of conf/base is called `sed` (did you mean `seed`?)"

    doctor = project.kedro("azureml", "doctor", "--params", "sed=3")
    compiled = project.kedro("azureml", "compile", "--params", "sed=3")
    strict = project.kedro("azureml", "compile", "--strict", "--params", "sed=3")

    assert line in doctor.stdout
    assert compiled.returncode == 0 and line in compiled.stdout + compiled.stderr
    assert strict.returncode == 1 and line in strict.stderr
