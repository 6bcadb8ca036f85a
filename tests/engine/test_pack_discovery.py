"""Packs from anywhere: the search path, duplicate company ids, and rubric files that must not load."""

import os
from pathlib import Path

import pytest

from grader.engine.loader import (
    MAX_RUBRIC_FILE_BYTES,
    RubricError,
    UnknownNameError,
    find_packs,
    load_available,
    load_company,
    load_pack,
)
from tests.engine.test_loader import PACK, QUESTION, write_pack


def write_company(folder: Path, company: str) -> Path:
    """The sample pack under another company id."""
    return write_pack(folder / company, pack=PACK.replace("acme", company), question=QUESTION.replace("acme", company))


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """An empty project rubrics/ so the repository's own packs do not take part."""
    rubrics = tmp_path / "project-rubrics"
    rubrics.mkdir()
    monkeypatch.setenv("MOCKINT_RUBRICS", str(rubrics))
    return rubrics


def test_packs_are_found_in_home_packs_and_every_mockint_packs_folder(project, isolated_home, tmp_path, monkeypatch):
    write_pack(project / "acme")
    write_company(isolated_home / "packs", "beta")
    one, two = tmp_path / "one", tmp_path / "two"
    write_company(one, "gamma")
    write_company(two, "delta")
    monkeypatch.setenv("MOCKINT_PACKS", os.pathsep.join([str(one), "", str(two)]))

    catalog = find_packs()
    assert sorted(catalog.locations) == ["acme", "beta", "delta", "gamma"]
    assert catalog.locations["acme"].origin == "MOCKINT_RUBRICS"
    assert catalog.locations["beta"].origin == "$MOCKINT_HOME/packs"
    assert catalog.locations["gamma"].origin == "MOCKINT_PACKS"
    loaded = load_company("delta")
    assert loaded.root == two / "delta" and loaded.origin == "MOCKINT_PACKS"
    assert [q.id for q in loaded.ordered_questions()] == ["delta.screen.basics"]


def test_a_mockint_packs_entry_may_be_the_pack_folder_itself(project, tmp_path, monkeypatch):
    write_pack(tmp_path / "work" / "acme")
    monkeypatch.setenv("MOCKINT_PACKS", str(tmp_path / "work" / "acme"))
    assert load_company("acme").root == tmp_path / "work" / "acme"


def test_two_packs_with_one_company_id_is_one_line_naming_both(project, tmp_path, monkeypatch):
    write_pack(project / "acme")
    write_pack(tmp_path / "mine" / "acme")
    write_company(tmp_path / "mine", "beta")
    monkeypatch.setenv("MOCKINT_PACKS", str(tmp_path / "mine"))
    with pytest.raises(RubricError) as err:
        load_company("acme")
    message = str(err.value)
    assert "\n" not in message
    assert str(project / "acme" / "pack.yaml") in message and str(tmp_path / "mine" / "acme" / "pack.yaml") in message
    # The other pack in the same folder is unaffected.
    packs, errors = load_available()
    assert [p.company for p in packs] == ["beta"] and len(errors) == 1


def test_the_same_folder_listed_twice_is_not_a_duplicate(project, tmp_path, monkeypatch):
    write_pack(tmp_path / "mine" / "acme")
    monkeypatch.setenv("MOCKINT_PACKS", os.pathsep.join([str(tmp_path / "mine"), str(tmp_path / "mine") + "/"]))
    assert load_company("acme").company == "acme"


def test_unknown_company_mentions_a_missing_mockint_packs_folder(project, tmp_path, monkeypatch):
    monkeypatch.setenv("MOCKINT_PACKS", str(tmp_path / "typo"))
    with pytest.raises(UnknownNameError, match="typo does not exist"):
        load_company("acme")


def test_one_broken_pack_leaves_the_others_loadable(project):
    write_pack(project / "acme")
    write_pack(project / "beta", pack=PACK.replace("acme", "beta"),
               question=QUESTION.replace("acme", "beta").replace("weight: 2", "weigth: 2"))
    packs, errors = load_available()
    assert [p.company for p in packs] == ["acme"]
    assert len(errors) == 1 and "beta.screen.basics.yaml:7" in str(errors[0])


def _error(root: Path) -> RubricError:
    with pytest.raises(RubricError) as err:
        load_pack(root)
    assert "\n" not in str(err.value)
    return err.value


def test_deep_nesting_is_a_clear_error_not_a_recursion_error(tmp_path):
    deep = QUESTION + "resources: " + "[" * 50_000 + "]" * 50_000 + "\n"
    error = _error(write_pack(tmp_path / "acme", question=deep))
    assert "nested more than" in error.message and error.line is not None


def test_yaml_aliases_are_refused(tmp_path):
    reference = "      - A function learned from data."
    bomb = QUESTION.replace(reference, "      - &a A function learned from data.\n      - *a")
    assert "aliases" in _error(write_pack(tmp_path / "acme", question=bomb)).message


def test_a_key_written_twice_is_an_error_at_its_second_line(tmp_path):
    twice = QUESTION.replace("time_budget_seconds: 60", "time_budget_seconds: 60\ntime_budget_seconds: 90")
    error = _error(write_pack(tmp_path / "acme", question=twice))
    assert "'time_budget_seconds' is written twice (first at line 3)" in error.message and error.line == 4


def test_an_oversized_file_is_refused_before_parsing(tmp_path):
    big = QUESTION + "# " + "x" * MAX_RUBRIC_FILE_BYTES + "\n"
    error = _error(write_pack(tmp_path / "acme", question=big))
    assert "limit for one rubric file" in error.message


def test_references_per_point_are_capped(tmp_path):
    many = "\n".join(f"      - Reference number {i}." for i in range(41))
    question = QUESTION.replace("      - A function learned from data.", many)
    error = _error(write_pack(tmp_path / "acme", question=question))
    assert error.field_path == "points.0.references" and "at most 40" in error.message


def test_a_question_listed_twice_is_an_error(tmp_path):
    pack = PACK.replace("questions: [acme.screen.basics]", "questions: [acme.screen.basics, acme.screen.basics]")
    error = _error(write_pack(tmp_path / "acme", pack=pack))
    assert error.field_path == "rounds.0.questions.1" and "asked twice" in error.message


def test_a_question_listed_in_two_rounds_is_an_error(tmp_path):
    pack = PACK + """\
  - id: again
    title: Again
    kind: design
    time_budget_minutes: 10
    questions: [acme.screen.basics]
"""
    assert _error(write_pack(tmp_path / "acme", pack=pack)).field_path == "rounds.1.questions.0"


def test_a_file_named_differently_from_its_id_is_an_error(tmp_path):
    root = write_pack(tmp_path / "acme")
    (root / "questions" / "acme.screen.basics.yaml").rename(root / "questions" / "basics.yaml")
    error = _error(root)
    assert error.field_path == "id" and "name the file acme.screen.basics.yaml" in error.message


def test_a_pack_folder_named_differently_from_its_company_is_an_error(tmp_path):
    error = _error(write_pack(tmp_path / "acme-corp"))
    assert error.field_path == "company" and "'acme-corp'" in error.message


def test_a_round_naming_a_missing_question_file_says_which_file(tmp_path):
    root = write_pack(tmp_path / "acme")
    (root / "questions" / "acme.screen.basics.yaml").unlink()
    error = _error(root)
    assert error.field_path == "rounds.0.questions.0" and "no acme.screen.basics.yaml" in error.message


def test_a_question_file_in_no_round_is_reported_not_refused(tmp_path):
    root = write_pack(tmp_path / "acme")
    spare = QUESTION.replace("acme.screen.basics", "acme.screen.spare")
    (root / "questions" / "acme.screen.spare.yaml").write_text(spare)
    assert load_pack(root).unlisted_questions() == ["acme.screen.spare"]
