"""`rubric check` lints: warnings leave the exit code alone, TODOs are errors, the judge's lints fire."""

import shutil

import pytest
import yaml
from click.testing import CliRunner

from grader.authoring.lint import judge_findings, static_findings
from grader.cli import cli
from grader.engine.loader import load_company, load_pack
from tests.conftest import REPO
from tests.engine.test_loader import QUESTION, write_pack


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_a_thin_rubric_gets_warnings_and_exit_0(tmp_path):
    root = write_pack(tmp_path / "acme")  # two references, one example, no schema lines
    spare = QUESTION.replace("acme.screen.basics", "acme.screen.spare")
    (root / "questions" / "acme.screen.spare.yaml").write_text(spare)
    result = run("rubric", "check", "--no-examples", str(root))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    text = "\n".join(warnings)
    assert "points.0.references: 2 references; write at least 4" in text
    assert "basics.yaml:15: examples: worked examples do not span the scale: none low (0-1), none middle" in text
    assert "question 'acme.screen.spare' is in no round" in text
    assert "pack.yaml:1: no `# yaml-language-server: $schema=...` line" in text


def test_a_todo_is_an_error_naming_file_line_and_field(tmp_path):
    root = write_pack(tmp_path / "acme", question=QUESTION.replace("probe: What does a model do?", "probe: TODO"))
    result = run("rubric", "check", "--no-examples", str(root))
    assert result.exit_code == 2
    assert "acme.screen.basics.yaml:11: points.0.probe: still a TODO" in result.stderr


def test_the_pinterest_pack_has_no_static_warnings():
    assert [str(f) for f in static_findings(load_company("pinterest"))] == []


def test_every_yaml_file_in_rubrics_carries_the_schema_line():
    for path in (REPO / "rubrics").rglob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        expected = "pack" if path.name == "pack.yaml" else "question"
        assert first.startswith("# yaml-language-server: $schema="), path
        assert first.endswith(f"schema/{expected}.schema.json"), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target.is_file(), f"{path}: schema line points at {target}"


@pytest.mark.real_model
def test_the_judge_flags_confusable_points_and_a_misconception_that_reads_as_its_point(tmp_path):
    from grader.engine.grading import grader_for_pack

    shutil.copytree(REPO / "rubrics" / "pinterest", tmp_path / "pinterest")
    path = tmp_path / "pinterest" / "questions" / "pinterest.screen.overfitting.yaml"
    data = yaml.safe_load(path.read_text())
    fits_noise, gap = data["points"][0], data["points"][1]
    # The generalization-gap point restates fits-noise; a new misconception is one of its own references.
    gap["references"] = [ref.replace("model", "the model") for ref in fits_noise["references"]]
    fits_noise["misconceptions"].append({"id": "echo", "claim": "x", "phrasings": [fits_noise["references"][0]],
                                         "correction": "y"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_pack(tmp_path / "pinterest")
    question = loaded.questions["pinterest.screen.overfitting"]
    findings = [str(f) for f in judge_findings(grader_for_pack(loaded), [question], loaded.question_files)]
    assert any("cannot tell points 'fits-noise' and 'generalization-gap' apart" in f for f in findings), findings
    assert any("points.0.misconceptions.1.phrasings" in f and "('echo')" in f for f in findings), findings


@pytest.mark.real_model
def test_the_judge_lints_are_quiet_on_distinct_points():
    from grader.engine.grading import grader_for_pack

    loaded = load_company("pinterest")
    question = loaded.questions["pinterest.screen.bias-variance"]
    findings = judge_findings(grader_for_pack(loaded), [question], loaded.question_files)
    assert not [f for f in findings if "cannot tell" in f.message]


