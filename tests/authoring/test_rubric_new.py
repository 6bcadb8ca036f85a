"""`mockint rubric new`: a valid pack with TODOs, nothing of the report dropped, check passes once filled."""

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader.cli import cli
from grader.engine.loader import load_company, load_pack

REPORTS = Path(__file__).parent / "reports"
STRUCTURAL_WORDS = {"question", "topics", "covered", "key", "discussion", "points", "the", "task", "talked", "about"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@pytest.mark.parametrize("report", sorted(p.name for p in REPORTS.glob("*.txt")))
def test_every_report_becomes_a_valid_pack_that_keeps_every_line(tmp_path, report):
    result = run("rubric", "new", "--company", "newco", "--from", str(REPORTS / report), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    loaded = load_pack(tmp_path / "newco")
    assert loaded.ordered_questions() and not loaded.unlisted_questions()
    written = " ".join(path.read_text() for path in (tmp_path / "newco").rglob("*.yaml"))
    for line in (REPORTS / report).read_text().splitlines():
        missing = _words(line) - _words(written) - STRUCTURAL_WORDS
        assert not missing, f"{line!r} lost {missing}"
    for path in (tmp_path / "newco").rglob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=")
    assert (tmp_path / "schema" / "question.schema.json").is_file()
    assert "left to fill:" in result.output and f"export MOCKINT_PACKS={tmp_path}" in result.output


def test_the_seed_report_scaffolds_its_rounds_questions_and_topic_points(tmp_path):
    result = run("rubric", "new", "-c", "pinseed", "--from", str(REPORTS / "pinterest-mle-interview-report.txt"),
                 "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    loaded = load_pack(tmp_path / "pinseed")
    assert [(r.id, r.kind) for r in loaded.pack.rounds] == [("technical-screen", "rapid-fire"),
                                                           ("ml-practitioner", "design")]
    prompts = [q.prompt for q in loaded.ordered_questions()]
    assert prompts[:3] == ["What is overfitting?", "How do you prevent it?",
                           "What are the differences between L1 and L2 regularization?"]
    design = loaded.ordered_questions()[3]
    assert [p.id for p in design.points] == ["embedding-creation", "training-data"]
    assert "LeetCode 347" in (tmp_path / "pinseed" / "pack.yaml").read_text()
    assert re.search(r"left to fill: \d+ TODO", result.output)


def test_a_scaffold_fails_check_until_its_todos_are_filled(tmp_path):
    assert run("rubric", "new", "-c", "blank", "-o", str(tmp_path)).exit_code == 0
    pack = tmp_path / "blank"
    result = run("rubric", "check", "--no-examples", str(pack))
    assert result.exit_code == 2 and "still a TODO" in result.stderr and "TODO marker(s) left" in result.stderr
    for path in pack.rglob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        filled = path.read_text().replace("TODO: ", "Filled in: ")
        assert yaml.safe_load(filled).keys() == data.keys()
        path.write_text(filled)
    result = run("rubric", "check", "--no-examples", str(pack))
    assert result.exit_code == 0, result.output + result.stderr


def test_the_company_id_defaults_to_the_reports_company(tmp_path):
    seed = str(REPORTS / "pinterest-mle-interview-report.txt")
    result = run("rubric", "new", "--from", seed, "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert load_pack(tmp_path / "pinterest").company == "pinterest"
    assert "also used by" in result.output  # the repository's pack: fine outside the search path, but said
    blank = run("rubric", "new", "--from", str(REPORTS / "notes-acme-ml-onsite.txt"), "-o", str(tmp_path))
    assert blank.exit_code == 2 and "--company: give the new pack's company id" in blank.output


def test_without_output_the_pack_goes_where_mockint_finds_it(isolated_home):
    result = run("rubric", "new", "-c", "homeco")
    assert result.exit_code == 0, result.output
    assert load_company("homeco").origin == "$MOCKINT_HOME/packs"
    assert "MOCKINT_PACKS" not in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-c", "Bad Name"], "--company: 'Bad Name' is not a company id"),
        (["-c", "pinterest"], "already used by"),
        (["-c", "x", "--from", "/nonexistent/report.txt"], "--from: no such file"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(args, expected):
    result = run("rubric", "new", *args)
    assert result.exit_code == 2 and expected in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "newco").mkdir()
    (tmp_path / "newco" / "mine.txt").write_text("keep")
    result = run("rubric", "new", "-c", "newco", "-o", str(tmp_path))
    assert result.exit_code == 2 and "already exists" in result.output
    assert (tmp_path / "newco" / "mine.txt").read_text() == "keep"
