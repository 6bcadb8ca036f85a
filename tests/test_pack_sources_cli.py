"""Packs outside the repository seen by the commands, and bad packs as one line with exit 2."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from tests.conftest import REPO
from tests.engine.test_loader import PACK, QUESTION, write_pack


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.fixture
def my_packs(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "my-packs"
    write_pack(folder / "acme")
    monkeypatch.setenv("MOCKINT_PACKS", str(folder))
    return folder


def _one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_questions_lists_an_outside_pack_and_says_where_it_came_from(my_packs):
    result = run("questions")
    assert result.exit_code == 0, result.output
    assert f"from MOCKINT_PACKS ({my_packs / 'acme'})" in result.output
    assert "from project rubrics/" in result.output and "pinterest.screen.overfitting" in result.output
    rows = json.loads(run("questions", "--company", "acme", "--json").stdout)
    assert rows == [{"company": "acme", "round": "screen", "kind": "rapid-fire", "id": "acme.screen.basics",
                     "prompt": "What is a model?", "points": 1, "source": "MOCKINT_PACKS",
                     "path": str(my_packs / "acme")}]


def test_a_pack_in_home_packs_is_listed(isolated_home):
    write_pack(isolated_home / "packs" / "acme")
    assert "from $MOCKINT_HOME/packs" in run("questions").output


def test_grade_finds_a_question_of_an_outside_pack(my_packs):
    assert not (my_packs / "acme" / "calibration.json").exists()  # graded with the model's calibration
    result = run("grade", "-q", "acme.screen.basics", "--json", input="  ")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["question_id"] == "acme.screen.basics"


def test_a_broken_pack_does_not_stop_grading_another(my_packs):
    broken = my_packs / "acme" / "questions" / "acme.screen.basics.yaml"
    broken.write_text(QUESTION.replace("weight: 2", "weight: [2"))
    result = run("grade", "-q", "pinterest.screen.overfitting", "--json", input="  ")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["grade"] == 0
    assert "warning: pack skipped" in result.stderr and str(broken) in result.stderr


def test_a_question_of_the_broken_pack_names_the_error(my_packs):
    (my_packs / "acme" / "pack.yaml").write_text(PACK + "colour: red\n")
    line = _one_error_line(run("grade", "-q", "acme.screen.basics", input="x"))
    assert "unknown question id" in line and "pack.yaml" in line and "colour" in line


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda root: (root / "pack.yaml").write_text(PACK.replace("role: ML Engineer", "role: [ML")),
         "pack.yaml:4: YAML syntax error"),
        (lambda root: (root / "pack.yaml").write_text(PACK.replace("kind:", "knd:")), "rounds.0.knd"),
        (lambda root: (root / "questions" / "acme.screen.basics.yaml").unlink(),
         "rounds.0.questions.0: unknown question"),
        (lambda root: (root / "pack.yaml").write_text(PACK + "description: " + "[" * 100_000 + "]" * 100_000),
         "nested more than 16 levels"),
        (lambda root: (root / "pack.yaml").write_text(PACK + "role: Engineer\n"), "'role' is written twice"),
    ],
    ids=["yaml-error", "unknown-field", "question-in-no-file", "deep-nesting", "duplicate-key"],
)
def test_bad_pack_is_one_line_exit_2_in_questions_and_start(my_packs, breakage, expected):
    breakage(my_packs / "acme")
    line = _one_error_line(run("questions"))
    assert expected in line and str(my_packs / "acme") in line
    result = run("start", "--company", "acme")
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output


def test_duplicate_company_id_is_one_line_naming_both_paths(tmp_path, monkeypatch):
    shutil.copytree(REPO / "rubrics" / "pinterest", tmp_path / "mine" / "pinterest")
    monkeypatch.setenv("MOCKINT_PACKS", str(tmp_path / "mine"))
    line = _one_error_line(run("questions"))
    assert str(REPO / "rubrics" / "pinterest" / "pack.yaml") in line
    assert str(tmp_path / "mine" / "pinterest" / "pack.yaml") in line
    result = run("start", "--company", "pinterest")
    assert result.exit_code == 2 and "also used by" in result.output
