"""scripts/answer_pairs.py: which sentence of a graded answer carries which label for the judge."""

import json

from tests.conftest import REPO, script_module, train_judge_script


def _answer_pairs_script():
    return script_module("answer_pairs")


ROW = {
    "covers": [{"point": "sparsity", "quote": "L1 pushes small weights all the way to zero"}],
    "contradicts": [{"point": "shrinkage", "quote": "L2 also makes weights exactly zero"}],
    "misconceptions": [{"id": "l2-is-sparse", "point": "stability", "quote": "L2 picks one of two copies"}],
}


def test_a_unit_holding_a_quote_takes_its_label_and_a_point_marked_nowhere_reads_as_neutral():
    script = _answer_pairs_script()
    assert script.unit_label("So L1 pushes small weights all the way to zero.", "sparsity", ROW) == "entail"
    assert script.unit_label("Also, L2 also makes weights exactly zero, honestly.", "shrinkage", ROW) == "contradict"
    assert script.unit_label("L2 picks one of two copies, I think", "stability", ROW) == "contradict"
    # Close to a point the grader did not mark anywhere: the judge should not read it as stating it.
    assert script.unit_label("Regularization adds a penalty on the weights.", "priors", ROW) == "neutral"


def test_a_unit_is_left_out_when_its_label_would_be_a_guess():
    script = _answer_pairs_script()
    # The point is stated, but by another sentence: this one may restate it.
    assert script.unit_label("Regularization adds a penalty on the weights.", "sparsity", ROW) is None
    # Only a piece of another point's quote, and so perhaps about this point in passing.
    assert script.unit_label("L1 pushes small weights", "priors", ROW) is None


def test_the_committed_pairs_name_known_points_and_labels_and_train_judge_holds_out_two_questions():
    train_judge = train_judge_script()
    rows = [json.loads(line) for line in (REPO / "data" / "judge" / "answers" / "pairs.jsonl").open(encoding="utf-8")]
    from grader.engine.loader import load_company

    points = {(q.id, p.id) for pack in ("meta", "airbnb") for q in load_company(pack).questions.values()
              for p in q.points}
    assert rows and all((row["question"], row["point"]) in points for row in rows)
    assert {row["label"] for row in rows} == {"entail", "contradict", "neutral"}
    train, held_out, kinds = train_judge.answer_pairs()
    assert len(train) + len(held_out) == len(rows)
    held = {row["question"] for row in rows if (row["text"], row["reference"], row["label"]) in set(held_out)}
    assert held == set(train_judge.HELD_OUT_QUESTIONS)
    assert set(kinds) <= {"answer-entail", "answer-contradict", "answer-neutral"}
    assert not set(held_out) & set(train)
