import json
import random

from click.testing import CliRunner

from grader.engine.loader import load_company
from grader.engine.result import GradeResult
from grader.evaluation.cli import eval_command
from grader.evaluation.robustness import ATTACKS, SHORT_SHUFFLE_WORDS, generate_cases, negate, run_robustness
from tests.evaluation.conftest import QUESTION_ID


def test_negate_inserts_not_after_the_auxiliary():
    assert negate("Training error is low.") == "Training error is not low."
    assert negate("Use impression logs") == "It is not true that use impression logs."


def test_negate_denies_a_sentence_of_several_clauses_as_a_whole():
    # "not" after the first auxiliary would land in the relative clause and leave the claim standing.
    claim = "Build the prefix sums once, then binary search, which is O(log n) per draw."
    assert negate(claim) == f"It is not true that b{claim[1:]}"
    # A claim that already holds a negation would become a double negative.
    assert negate("Zero weights must never be picked.") == "It is not true that zero weights must never be picked."


def test_generation_is_deterministic_and_covers_every_case(project):
    question = load_company("acme").questions[QUESTION_ID]
    first = generate_cases([question], seed=3)
    assert first == generate_cases([question], seed=3)
    kinds = {case.kind for case in first}
    assert kinds == {"model answer", *ATTACKS, "padded correct answer", "correct answer + false claim"}
    false_claim = next(c for c in first if c.kind == "correct answer + false claim")
    assert false_claim.expected_misconception == "too-simple"


def test_keyword_list_has_no_connecting_words(project):
    question = load_company("acme").questions[QUESTION_ID]
    keywords = ATTACKS["keyword list"](question, random.Random(0)).split()
    assert len(keywords) >= 5
    assert not {"the", "is", "of", "and"} & set(keywords)


def test_short_shuffle_is_the_opening_words_of_the_model_answer_reordered(project):
    question = load_company("acme").questions[QUESTION_ID]
    shuffled = ATTACKS["shuffled short answer"](question, random.Random(0))
    opening = question.model_answer.replace(".", " ").split()[:SHORT_SHUFFLE_WORDS]
    assert sorted(shuffled.rstrip(".").split()) == sorted(opening)
    assert shuffled.rstrip(".").split() != opening
    assert shuffled == ATTACKS["shuffled short answer"](question, random.Random(0))


class StubGrader:
    """Grades by a lookup: model answers 4, everything else the given grade."""

    model_id = "stub"

    def __init__(self, attack_grade: int) -> None:
        self.attack_grade = attack_grade

    def grade_many(self, items):
        out = []
        for question, answer in items:
            grade = 4 if answer == question.model_answer else self.attack_grade
            out.append(GradeResult(question_id=question.id, grade=grade, score=grade * 25, points=[]))
        return out


def test_attack_above_one_fails_loudly(project):
    question = load_company("acme").questions[QUESTION_ID]
    report = run_robustness([question], StubGrader(attack_grade=2))
    assert not report["passed"]
    assert any("keyword list earned 2" in f for f in report["failures"])
    assert any("mean grade 2.00 > 0.5" in f for f in report["failures"])


def test_attacks_at_zero_pass_and_false_claim_warns_when_not_named(project):
    question = load_company("acme").questions[QUESTION_ID]
    report = run_robustness([question], StubGrader(attack_grade=0))
    assert report["passed"], report["failures"]
    assert report["summary"]["model answer"]["min_grade"] == 4
    assert any("was not named" in w for w in report["warnings"])


def test_cli_exit_status_follows_the_verdict(project):
    result = CliRunner().invoke(eval_command, ["--robustness", "--json"])
    payload = json.loads(result.stdout)
    assert result.exit_code == (0 if payload["passed"] else 1)
    assert set(payload["summary"]) >= set(ATTACKS)


def _rendered(report) -> str:
    from rich.console import Console

    from grader.evaluation.render import print_robustness_report

    console = Console(record=True, width=200)
    print_robustness_report(console, report)
    return console.export_text()


def test_table_marks_failed_attacks_fail_and_misbehaving_perturbations_warn(project):
    question = load_company("acme").questions[QUESTION_ID]
    # Attacks at 0 pass, but the false claim (also 0 here) is not named: a warning, not a failure.
    passing = _rendered(run_robustness([question], StubGrader(attack_grade=0)))
    rows = {line.split("│")[1].strip(): line for line in passing.splitlines() if line.count("│") > 3}
    assert "warn" in rows["correct answer + false claim"] and "FAIL" not in passing
    assert "ok" in rows["keyword list"]
    failing = _rendered(run_robustness([question], StubGrader(attack_grade=2)))
    rows = {line.split("│")[1].strip(): line for line in failing.splitlines() if line.count("│") > 3}
    assert "FAIL" in rows["keyword list"]
