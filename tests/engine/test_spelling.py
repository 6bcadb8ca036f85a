"""Spelling repair: misspelt rubric terms are repaired before grading, and quoted as typed."""

import pytest

from grader.engine.calibration import Calibration
from grader.engine.grading import Grader
from grader.engine.spelling import SpellingRepair, known_english_words
from tests.engine.test_grading import QUESTION

KNOWN = frozenset({"the", "of", "we", "use", "and", "grain", "because", "model"})
RUBRIC = ["The embedding of the creative gets impressions because we calibrate.", "A trained model fails."]


def test_misspelt_rubric_terms_are_repaired():
    repair = SpellingRepair(RUBRIC, KNOWN)
    assert repair.repair("Embeding of the creativ gets impresions.") == "Embedding of the creative gets impressions."
    assert repair.repair("the modle is traned") == "the model is trained"  # a swap, a dropped letter


@pytest.mark.parametrize(
    "text",
    [
        "grained",  # a known word with an ending: not a typo of "trained"
        "We use FAISS",  # an acronym is spelt as its owner spells it
        "becuase",  # function words are left as typed: they carry structure and negation
        "rained",  # a different first letter means a different word
        "the",  # short or known words are never touched
    ],
)
def test_words_that_are_not_misspelt_rubric_terms_are_left_alone(text):
    assert SpellingRepair(RUBRIC, KNOWN).repair(text) == text


def test_ambiguous_repair_is_not_made():
    repair = SpellingRepair(["cart", "cast"], KNOWN)
    assert repair.correction("caat") is None


def test_repair_is_off_without_a_vocabulary_of_known_words():
    assert SpellingRepair(RUBRIC, frozenset()).repair("embeding") == "embeding"


def test_packaged_vocabulary_knows_common_words():
    known = known_english_words()
    assert {"because", "impression", "model"} <= known
    assert "embeding" not in known


def test_misspelt_answer_earns_the_point_and_is_quoted_as_typed(fake_encoder):
    calibration = Calibration(
        model_id=fake_encoder.model_id,
        coverage_slope=20.0,
        coverage_intercept=-10.0,
        grade_cutpoints=(12.5, 37.5, 62.5, 87.5),
        score_weights=(0.0, 4.0, 0.0, 0.0, 1.0),
        misconception_threshold=0.6,
    )
    typed = "The modle memorizes noize in the training data."
    with_repair = Grader(fake_encoder, calibration).grade(QUESTION, typed)
    without = Grader(fake_encoder, calibration, known_words=frozenset()).grade(QUESTION, typed)
    noise = {p.point_id: p for p in with_repair.points}["noise"]
    assert noise.covered and noise.evidence == typed
    assert noise.probability > {p.point_id: p for p in without.points}["noise"].probability


def test_a_negated_sentence_is_quoted_as_typed_in_the_reason(fake_encoder):
    calibration = Calibration(fake_encoder.model_id, 20.0, -10.0, (12.5, 37.5, 62.5, 87.5))
    typed = "The modle never memorizes noize in the training data."
    reason = {p.point_id: p for p in Grader(fake_encoder, calibration).grade(QUESTION, typed).points}["noise"].reason
    assert f"“{typed}”" in reason
