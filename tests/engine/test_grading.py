"""Grader behaviour with the deterministic fake encoder (shared words = similar vectors)."""

from dataclasses import replace

import pytest

from grader.engine.calibration import Calibration
from grader.engine.grading import Grader
from grader.engine.rubric import Question

QUESTION = Question.model_validate(
    {
        "id": "acme.screen.overfitting",
        "prompt": "What is overfitting?",
        "time_budget_seconds": 90,
        "model_answer": "The model memorizes noise in the training data and fails on new data.",
        "points": [
            {
                "id": "noise",
                "title": "Fits noise",
                "weight": 3,
                "references": ["the model memorizes noise in the training data", "it memorizes training noise"],
                "misconceptions": [
                    {
                        "id": "too-simple",
                        "claim": "Overfitting means the model is too simple",
                        "phrasings": ["the model is too simple and underpowered"],
                        "correction": "Too simple is underfitting.",
                    }
                ],
                "probe": "What does it learn?",
                "feedback": "Say it fits noise.",
            },
            {
                "id": "gap",
                "title": "Generalization gap",
                "weight": 2,
                "references": [
                    "low training error but high validation error",
                    "training error low validation error high",
                ],
                "probe": "How do the errors compare?",
                "feedback": "Name the gap.",
            },
        ],
    }
)


@pytest.fixture
def grader(fake_encoder):
    calibration = Calibration(
        model_id=fake_encoder.model_id,
        coverage_slope=20.0,
        coverage_intercept=-10.0,  # covered from similarity 0.5
        grade_cutpoints=(12.5, 37.5, 62.5, 87.5),
        score_weights=(0.0, 4.0, 0.0, 0.0, 1.0),
        misconception_threshold=0.6,
    )
    return Grader(fake_encoder, calibration)


def test_empty_answer_is_graded_zero_with_no_answer(grader):
    result = grader.grade(QUESTION, "   ")
    assert (result.grade, result.score) == (0, 0)
    assert all(p.reason == "no answer" for p in result.points)
    assert result.notices == ["No answer was given."]


def test_covering_sentence_is_the_evidence(grader):
    answer = "Well. The model memorizes noise in the training data. Also low training error but high validation error."
    result = grader.grade(QUESTION, answer)
    by_id = {p.point_id: p for p in result.points}
    assert by_id["noise"].covered and by_id["noise"].evidence == "The model memorizes noise in the training data."
    assert by_id["gap"].covered
    assert result.grade == 4 and result.coverage > 0.9


def test_terms_written_one_per_sentence_are_a_list_too(grader):
    terms = "Memorizes noise. Training data. Low training error. High validation error. Variance."
    listed = grader.grade(QUESTION, terms)
    assert not listed.covered and listed.grade <= 1
    assert any("list of terms" in n for n in listed.notices)
    # The same claims as sentences, or a terse answer of a few short sentences, still count.
    claims = "The model memorizes noise in the training data. Low training error, high validation error."
    terse = grader.grade(QUESTION, claims)
    assert {p.point_id for p in terse.covered} == {"noise", "gap"}


def test_keyword_list_earns_nothing(grader):
    result = grader.grade(QUESTION, "overfitting noise training data validation error generalization variance")
    assert not result.covered
    assert result.grade <= 1
    assert any("list of terms" in n for n in result.notices)


def test_clearly_negated_claim_is_named_and_earns_nothing(grader):
    result = grader.grade(QUESTION, "It never memorizes training noise.")
    assert not result.covered
    assert [m.misconception_id for m in result.misconceptions] == ["contradicts-noise"]


def test_negation_that_barely_moves_the_match_earns_nothing_and_accuses_nothing(grader):
    # The de-negated twin is closer to the point, but by less than CONTRADICTION_MARGIN: the
    # sentence may well be correct, so it is withheld credit without being named as a wrong claim.
    result = grader.grade(QUESTION, "The model never memorizes noise in the training data.")
    assert not result.covered
    assert result.misconceptions == []
    reason = {p.point_id: p for p in result.points}["noise"].reason
    # The reason quotes the sentence and says what to do, since the sentence may well be right.
    assert "“The model never memorizes noise in the training data.”" in reason
    assert "negated" in reason and "state the point positively" in reason


def test_misconception_blocks_its_point(grader):
    result = grader.grade(QUESTION, "Overfitting is when the model is too simple and underpowered.")
    assert [m.misconception_id for m in result.misconceptions] == ["too-simple"]
    assert result.misconceptions[0].evidence.startswith("Overfitting is when")
    assert not any(p.covered for p in result.points if p.point_id == "noise")


def test_restating_the_question_earns_nothing(grader):
    assert grader.grade(QUESTION, "What is overfitting?").grade == 0


def test_a_definition_is_a_restated_question_only_if_what_it_says_is_too(grader):
    # With the fake encoder the sentence sits at 0.28 from "What is overfitting?" and its predicate
    # ("the model memorizes ...") at 0.02; a threshold between them shows which one decides.
    echo_at = replace(grader.calibration, echo_threshold=0.25)
    strict = Grader(grader.encoder, echo_at)
    definition = strict.grade(QUESTION, "Overfitting is when the model memorizes noise in the training data.")
    assert any(p.covered for p in definition.points if p.point_id == "noise")
    assert strict.grade(QUESTION, "What is overfitting?").grade == 0


def test_a_copied_question_earns_nothing_through_its_clauses(grader):
    # Long sentences are also graded clause by clause; a clause of a copied sentence sits far from
    # the whole question but close to a point, and must not earn it.
    long_prompt = QUESTION.model_copy(
        update={
            "prompt": "Explain overfitting: why does the model memorizes noise in the training data, "
            "and what happens to training error versus validation error?"
        }
    )
    copied = grader.grade(long_prompt, long_prompt.prompt)
    assert copied.grade == 0 and not any(p.covered for p in copied.points)
    # The same topics in the candidate's own words still earn their points.
    own_words = (
        "Overfitting: the model memorizes noise in the training data, so training error is low but "
        "validation error is high, a gap that grows with model capacity and shrinks with more data."
    )
    assert all(p.covered for p in grader.grade(long_prompt, own_words).points)


def test_grading_is_deterministic_and_batch_equals_single(grader):
    answers = ["The model memorizes noise in the training data.", "low training error but high validation error"]
    batch = grader.grade_many([(QUESTION, a) for a in answers])
    assert batch == [grader.grade(QUESTION, a) for a in answers]


def test_result_round_trips_through_dict(grader):
    from grader.engine.result import GradeResult

    result = grader.grade(QUESTION, "The model memorizes noise in the training data.")
    assert GradeResult.from_dict(result.to_dict()) == result


def test_rubric_embeddings_are_cached_on_disk(fake_encoder, tmp_path):
    calibration = Calibration(fake_encoder.model_id, 20.0, -10.0, (12.5, 37.5, 62.5, 87.5))
    Grader(fake_encoder, calibration, cache_dir=tmp_path).warm([QUESTION])
    first = fake_encoder.calls
    assert first > 0
    Grader(fake_encoder, calibration, cache_dir=tmp_path).warm([QUESTION])
    assert fake_encoder.calls == first  # second process-equivalent run encodes no rubric text


def test_calibration_must_match_encoder(fake_encoder):
    with pytest.raises(ValueError, match="calibration is for"):
        Grader(fake_encoder, Calibration("other-model", 1.0, 0.0, (1, 2, 3, 4)))


def test_margin_keeps_a_sentence_about_one_point_from_earning_another(fake_encoder):
    # Covered only when a sentence is clearly closer to this point than to the other one.
    calibration = Calibration(
        fake_encoder.model_id, 20.0, -10.0, (12.5, 37.5, 62.5, 87.5), coverage_weights=(-2.0, 0.0, 20.0, 0.0)
    )
    result = Grader(fake_encoder, calibration).grade(QUESTION, "the model memorizes noise in the training data")
    by_id = {p.point_id: p for p in result.points}
    assert by_id["noise"].covered and by_id["noise"].margin > 0.1
    assert not by_id["gap"].covered and by_id["gap"].margin < 0


def test_term_overlap_is_reported_for_the_evidence(grader):
    result = grader.grade(QUESTION, "The model memorizes noise in the training data.")
    noise = next(p for p in result.points if p.point_id == "noise")
    assert noise.term_overlap == 1.0


def question_with_first_point_references(*references: str) -> Question:
    """QUESTION with its first point phrased by ``references`` instead."""
    first = QUESTION.points[0].model_copy(update={"references": list(references)})
    return QUESTION.model_copy(update={"points": [first, *QUESTION.points[1:]]})


def test_negation_that_is_part_of_the_point_still_earns_it(fake_encoder):
    question = question_with_first_point_references(
        "the model does not generalize", "it does not generalize to new data"
    )
    calibration = Calibration(fake_encoder.model_id, 20.0, -10.0, (12.5, 37.5, 62.5, 87.5))
    result = Grader(fake_encoder, calibration).grade(question, "The model does not generalize.")
    assert result.points[0].covered
    assert not result.misconceptions


def test_a_wrong_claim_voids_its_whole_sentence(grader):
    sentence = (
        "Overfitting is when the model is too simple and underpowered, "
        "because low training error but high validation error is what you see then."
    )
    result = grader.grade(QUESTION, sentence)
    assert [m.misconception_id for m in result.misconceptions] == ["too-simple"]
    assert not result.covered  # the clause about the gap sits in the wrong sentence and earns nothing
    alone = grader.grade(QUESTION, "Low training error but high validation error is what you see then.")
    assert any(p.point_id == "gap" for p in alone.covered)


def test_an_answer_covering_no_point_is_capped_at_one(fake_encoder):
    # A calibration whose score alone would say 3: the cap must still hold it at 1.
    generous = Calibration(
        fake_encoder.model_id, 20.0, -10.0, (12.5, 37.5, 62.5, 87.5), score_weights=(3.0, 0.0, 0.0, 0.0, 0.0)
    )
    result = Grader(fake_encoder, generous).grade(QUESTION, "Caching layers keep the hot data close to the core.")
    assert not result.covered
    assert result.grade == 1 and result.score < 37.5  # the score stays inside the capped grade's band
    assert any("caps the grade at 1" in n for n in result.notices)



def test_a_long_sentence_is_judged_by_its_clauses_not_its_blended_vector(grader):
    # The whole sentence's vector blends both clauses; only a clause that states the claim counts.
    sentence = (
        "Low training error but high validation error is what you see then, "
        "and it happens when the model memorizes the noise instead of the signal in the data."
    )
    result = grader.grade(QUESTION, sentence)
    assert not result.misconceptions
    assert {p.point_id for p in result.covered} == {"gap", "noise"}


def test_a_claim_below_the_naming_threshold_is_withheld_not_named(grader):
    cautious = Grader(grader.encoder, replace(grader.calibration, misconception_naming_threshold=1.01))
    sentence = "Overfitting is when the model is too simple and underpowered."
    named = grader.grade(QUESTION, sentence)
    assert [m.misconception_id for m in named.misconceptions] == ["too-simple"]
    result = cautious.grade(QUESTION, sentence)
    assert not result.misconceptions  # nobody is told they said it
    noise = next(p for p in result.points if p.point_id == "noise")
    assert not noise.covered


SHORT_ANSWER = (
    "The model memorizes noise in the training data, so it shows low training error but high validation "
    "error, and it fails on new data from the same source."
)


def test_a_short_answer_of_shuffled_words_earns_nothing(grader):
    # The fake encoder reads shared words as shared meaning, so only the word-order test can tell
    # these apart. Answers of WORD_ORDER_MIN_WORDS words or more are judged by it (it was 40, and
    # shuffled answers of 30 words earned 1.5 on average).
    import random

    from grader.engine.calibration import MODEL_CALIBRATION_PATH, calibration_for
    from grader.engine.grading import WORD_ORDER_MIN_WORDS
    from grader.engine.text import reads_as_shuffled, words

    transitions = calibration_for(MODEL_CALIBRATION_PATH, "all-MiniLM-L6-v2").word_order
    grader = Grader(grader.encoder, replace(grader.calibration, word_order=transitions, word_order_threshold=0.0))
    assert WORD_ORDER_MIN_WORDS <= len(words(SHORT_ANSWER)) < 40
    tokens = SHORT_ANSWER.replace(".", " ").replace(",", " ").split()
    random.Random(0).shuffle(tokens)  # a shuffle the test catches (about 15 in 20 are, at this length)
    shuffled = " ".join(tokens) + "."
    assert reads_as_shuffled(shuffled, transitions, 0.0)

    in_order = grader.grade(QUESTION, SHORT_ANSWER)
    assert in_order.grade >= 3
    assert not any("shuffled" in notice for notice in in_order.notices)
    result = grader.grade(QUESTION, shuffled)
    assert result.grade == 0
    assert not any(point.covered for point in result.points)
    assert any("reads as shuffled words" in notice for notice in result.notices)


def test_the_term_index_gives_every_reference_the_term_recall_of_a_sentence():
    from grader.engine.grading import _TermIndex
    from grader.engine.loader import load_company
    from grader.engine.text import key_terms, term_recall

    questions = list(load_company("pinterest").questions.values())
    for question in questions:
        references = [key_terms(ref) for point in question.points for ref in point.references] + [frozenset()]
        index = _TermIndex(references)
        for other in questions:  # sentences of every kind: on this question's topic and off it
            for text in [other.model_answer, *(ref for point in other.points for ref in point.references)]:
                terms = key_terms(text)
                assert index.recall(terms).tolist() == [term_recall(terms, ref) for ref in references]
