"""The judge's part in grading, with a fake judge; the shipped judge itself with the real model."""

from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from grader.engine import grading
from grader.engine.calibration import MODEL_CALIBRATION_PATH, Calibration, calibration_for
from grader.engine.fitting import fit_calibration
from grader.engine.grading import JUDGE_SENTENCES_PER_POINT, Grader
from grader.engine.judge import JUDGE_WEIGHTS_PATH, LABELS, JudgeUnavailableError, MiniLMJudge, stored_judge_id
from grader.engine.transcripts import LabelledAnswer
from tests.conftest import train_judge_script
from tests.engine.test_grading import QUESTION, question_with_first_point_references
from tests.fakes import WordJudge


def _calibration(encoder, judge) -> Calibration:
    return Calibration(
        model_id=encoder.model_id,
        judge_id=judge.judge_id,
        coverage_slope=20.0,
        coverage_intercept=-10.0,
        # Similarity, margin and overlap as the one-feature fit would weigh them, plus entailment.
        coverage_weights=(-10.0, 20.0, 0.0, 0.0, 0.0, 0.0),
        grade_cutpoints=(12.5, 37.5, 62.5, 87.5),
        score_weights=(0.0, 4.0, 0.0, 0.0, 1.0),
        misconception_threshold=0.6,
        contradiction_weight=1.0,
    )


@pytest.fixture
def judge():
    return WordJudge()


@pytest.fixture
def judged(fake_encoder, judge):
    return Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge)


def test_a_sentence_the_judge_reads_as_the_opposite_earns_nothing_and_is_not_named(judged):
    result = judged.grade(QUESTION, "The model ignores noise in the training data.")
    noise = {p.point_id: p for p in result.points}["noise"]
    assert not noise.covered
    # Not named: the judge alone never tells a candidate they said something wrong.
    assert result.misconceptions == []
    assert "“The model ignores noise in the training data.”" in noise.reason
    assert "was not read as stating this point" in noise.reason
    assert not any(word in noise.reason for word in ("wrong", "opposite", "incorrect"))
    assert result.contradicted_share == pytest.approx(3 / 5)


def test_the_same_sentence_without_the_swap_earns_the_point(judged):
    result = judged.grade(QUESTION, "The model memorizes noise in the training data.")
    noise = {p.point_id: p for p in result.points}["noise"]
    assert noise.covered
    assert noise.entailment == pytest.approx(1.0)
    assert result.contradicted_share == 0.0


def test_contradicted_points_lower_the_score(fake_encoder, judge):
    answer = "The model ignores noise in the training data. Training error is high but validation error is high."
    with_weight = Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge).grade(QUESTION, answer)
    without = Grader(
        fake_encoder, replace(_calibration(fake_encoder, judge), contradiction_weight=0.0), judge=judge
    ).grade(QUESTION, answer)
    assert with_weight.contradicted_share > 0
    assert with_weight.score < without.score


def test_entailment_weighs_in_the_coverage_probability(fake_encoder, judge):
    calibration = replace(_calibration(fake_encoder, judge), coverage_weights=(-10.0, 20.0, 0.0, 0.0, 4.0, 0.0))
    plain = Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge)
    trusting = Grader(fake_encoder, calibration, judge=judge)
    answer = "It memorizes noise."
    assert (
        {p.point_id: p for p in trusting.grade(QUESTION, answer).points}["noise"].probability
        > {p.point_id: p for p in plain.grade(QUESTION, answer).points}["noise"].probability
    )


def _graded_by_a_judge_that_reads_not_as_opposite(fake_encoder, references: tuple[str, ...], answer: str):
    """The answer graded against QUESTION with its first point phrased by ``references``, by a judge
    that reads every sentence with a negation word as a contradiction; also how many pairs it read."""
    reads_not_as_opposite = WordJudge(negation_is_opposite=True)
    # Entailment weighs enough that the judge's verdict could earn these sentences their point, so
    # they are sent to it.
    calibration = replace(
        _calibration(fake_encoder, reads_not_as_opposite), coverage_weights=(-10.0, 20.0, 0.0, 0.0, 4.0, 0.0)
    )
    grader = Grader(fake_encoder, calibration, judge=reads_not_as_opposite)
    result = grader.grade(question_with_first_point_references(*references), answer)
    return result, reads_not_as_opposite.calls


def test_the_judge_never_decides_which_way_a_negated_sentence_points(fake_encoder):
    # The real judge reads nearly any "not" as a contradiction; for a negated sentence its
    # contradiction counts as being about the point, and the negation rules decide the direction.
    result, calls = _graded_by_a_judge_that_reads_not_as_opposite(
        fake_encoder,
        ("the model does not generalize", "it does not generalize to new data"),
        "The model does not generalize.",
    )
    assert calls > 0
    assert result.points[0].covered
    assert result.points[0].contradiction == 0.0
    assert result.contradicted_share == 0.0


def test_a_negation_that_is_part_of_a_definition_is_not_read_as_a_contradiction(fake_encoder):
    # "when the model doesn't generalize" defines overfitting; the negation rules know the negation
    # is local, the judge does not, so its contradiction must not cost the point.
    result, calls = _graded_by_a_judge_that_reads_not_as_opposite(
        fake_encoder,
        ("the model fails to generalize to new data", "it generalizes poorly to new data"),
        "Overfitting is when the model doesn't generalize to new data.",
    )
    assert calls > 0
    assert result.points[0].contradiction == 0.0
    assert result.contradicted_share == 0.0


def test_the_judge_reads_a_definition_without_its_opener(judged, judge):
    # The shipped judge read "Overfitting is when the model memorizes noise" beside "The model
    # learns the noise ..." as a contradiction (0.97): a subject the reference lacks.
    judged.grade(QUESTION, "Overfitting is when the model memorizes noise in the training data.")
    assert judge.read and all(not text.startswith("Overfitting") for text, _ in judge.read)
    assert any(text.startswith("the model memorizes noise") for text, _ in judge.read)


def test_unrelated_sentences_are_not_sent_to_the_judge(fake_encoder, judge):
    grader = Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge)
    grader.grade(QUESTION, "Bananas grow in warm countries.")
    assert judge.calls == 0


def test_the_judge_reads_only_the_sentences_closest_to_each_point(fake_encoder, judge):
    grader = Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge)
    nearest_first = [  # cosine to the closest reference with the fake encoder: 1.0, 1.0, 0.95, 0.78
        "The model memorizes noise in the training data.",
        "It memorizes training noise.",
        "The model memorizes noise in the data.",
        "The model keeps the training data.",
    ]
    grader.grade(QUESTION, " ".join(reversed(nearest_first)))
    noise_references = set(QUESTION.points[0].references)
    read_for_noise = [sentence for sentence, reference in judge.read if reference in noise_references]
    assert len(nearest_first) > JUDGE_SENTENCES_PER_POINT
    assert sorted(read_for_noise) == sorted(nearest_first[:JUDGE_SENTENCES_PER_POINT])


def test_a_batch_of_answers_is_read_by_the_judge_in_one_call_and_graded_as_one_by_one(fake_encoder):
    class CountingJudge(WordJudge):
        def __init__(self) -> None:
            super().__init__()
            self.batches: list[int] = []

        def judge(self, pairs):
            self.batches.append(len(pairs))
            return super().judge(pairs)

    judge = CountingJudge()
    grader = Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge)
    answers = [
        "The model memorizes noise in the training data.",
        "I don't know",
        "The model ignores noise in the training data.",
        "Bananas grow in warm countries.",
        "Training error is low but validation error is high.",
    ]
    batch = grader.grade_many([(QUESTION, answer) for answer in answers])
    assert len(judge.batches) == 1 and judge.batches[0] > 0
    assert batch == [grader.grade(QUESTION, answer) for answer in answers]


def test_a_pair_no_verdict_could_make_count_is_not_sent_to_the_judge(fake_encoder, judge):
    # With these weights a sentence needs similarity 0.58 to the point before even a sure entailment
    # gives it a 0.2 chance of it (RELEVANCE_FLOOR); below that the judge's verdict cannot matter.
    calibration = replace(_calibration(fake_encoder, judge), coverage_weights=(-14.0, 20.0, 0.0, 0.0, 1.0, 0.0))
    grader = Grader(fake_encoder, calibration, judge=judge)
    near, far = "The model memorizes noise in the data.", "The model keeps the training data."  # 0.67, 0.50
    result = grader.grade(QUESTION, f"{far} {near}")
    assert [text for text, _ in judge.read] == [near]
    assert result.points[0].evidence == near

    alone = grader.grade(QUESTION, far)
    assert [text for text, _ in judge.read] == [near]  # nothing more was read
    # Taken as a neutral verdict: the sentence keeps its small chance from similarity alone.
    assert 0.0 < alone.points[0].probability < 0.2
    assert alone.points[0].entailment == 0.0


def test_only_a_sentence_the_judge_read_can_earn_a_point(fake_encoder, judge, monkeypatch):
    monkeypatch.setattr(grading, "JUDGE_SENTENCES_PER_POINT", 1)
    grader = Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge)
    # The nearer sentence swaps the claim; the other would match the point by similarity alone, but
    # the judge never read it, so it is not evidence the judge stood behind.
    answer = "The model ignores noise in the training data. It memorizes the noise."
    result = grader.grade(QUESTION, answer)
    assert [s for s, r in judge.read if r in QUESTION.points[0].references] == [
        "The model ignores noise in the training data."
    ]
    assert not result.points[0].covered
    monkeypatch.setattr(grading, "JUDGE_SENTENCES_PER_POINT", 2)
    again = Grader(fake_encoder, _calibration(fake_encoder, judge), judge=judge)
    assert again.grade(QUESTION, answer).points[0].covered


def test_a_calibration_fitted_with_a_judge_needs_that_judge(fake_encoder, judge):
    calibration = _calibration(fake_encoder, judge)
    with pytest.raises(ValueError, match="fitted with the judge"):
        Grader(fake_encoder, calibration)
    other = WordJudge()
    other.judge_id = "another-judge"
    with pytest.raises(ValueError, match="another-judge"):
        Grader(fake_encoder, calibration, judge=other)


def test_a_calibration_without_a_judge_ignores_one(fake_encoder, judge):
    calibration = replace(_calibration(fake_encoder, judge), judge_id=None, coverage_weights=None)
    grader = Grader(fake_encoder, calibration, judge=judge)
    grader.grade(QUESTION, "The model memorizes noise in the training data.")
    assert judge.calls == 0


def test_fitting_with_a_judge_records_it_and_weighs_its_evidence(fake_encoder, judge):
    answers = []
    texts = [
        ("The model memorizes noise in the training data. Training error is low but validation error high.", 4,
         ("noise", "gap")),
        ("The model memorizes noise in the training data.", 3, ("noise",)),
        ("Training error is low but validation error is high.", 2, ("gap",)),
        ("The model ignores noise in the training data.", 0, ()),
        ("Bananas are yellow.", 0, ()),
    ]
    for n in range(30):
        answer, grade, covers = texts[n % len(texts)]
        answers.append(LabelledAnswer(id=f"a{n}", question_id=QUESTION.id, answer=answer, grade=grade,
                                      covers=covers, misconceptions=(), split="calibration"))
    calibration = fit_calibration(fake_encoder, {QUESTION.id: QUESTION}, answers, judge=judge)
    assert calibration.judge_id == judge.judge_id
    assert calibration.coverage_weights is not None and len(calibration.coverage_weights) == 6
    assert Calibration.from_dict(calibration.to_dict()) == calibration


def test_a_missing_weights_file_is_named(tmp_path: Path):
    missing = tmp_path / "weights.safetensors"
    with pytest.raises(JudgeUnavailableError, match=str(missing)):
        _ = MiniLMJudge(missing).judge_id


def test_the_shipped_judge_is_small_and_is_the_one_the_shipped_calibration_uses():
    assert JUDGE_WEIGHTS_PATH.stat().st_size <= 25_000_000
    shipped = calibration_for(MODEL_CALIBRATION_PATH, "all-MiniLM-L6-v2")
    assert shipped.judge_id == stored_judge_id()


@pytest.mark.real_model
def test_the_shipped_judge_tells_a_paraphrase_from_a_written_opposite():
    judge = MiniLMJudge()
    reference = "Gradient boosting trains trees sequentially, each one fitting the errors of the ones before."
    paraphrase, opposite = judge.judge(
        [
            ("boosting builds the trees one after another, each fixing the residuals of the previous", reference),
            ("Boosting trains all its trees in parallel on bootstrap samples and averages them.", reference),
        ]
    )
    entail, contradict = LABELS.index("entail"), LABELS.index("contradict")
    assert paraphrase[entail] > 0.5 > paraphrase[contradict]
    assert opposite[contradict] > 0.5 > opposite[entail]


def _held_out_written_pairs(train_judge: ModuleType, label: str) -> list[tuple[str, str]]:
    """The sentences other writers wrote for the two Meta and Airbnb questions the judge never
    trains on, with the given label, each beside two of its point's references."""
    import random

    _, references = train_judge.rubric_pairs(random.Random(13))
    _, held_out, _ = train_judge.contrast_pairs(references, random.Random(13))
    return [(text, reference) for text, reference, written_as in held_out if written_as == label]


@pytest.mark.real_model
def test_the_shipped_judge_reads_correct_sentences_on_unseen_questions_as_entailing():
    # A stricter judge takes points from wrong answers but also from correct ones, and then tells
    # the candidate a correct sentence did not state the point: a judge trained on 2026-12-07 that
    # read 0.75 of these as entailing scored better on the grader's adversarial answers and turned
    # a correct terse answer from grade 3 into 1 (model card, "Training-only topics").
    train_judge = train_judge_script()
    paraphrases = _held_out_written_pairs(train_judge, "entail")
    assert len(paraphrases) >= 150
    verdicts = MiniLMJudge().judge(paraphrases)
    assert (verdicts.argmax(axis=1) == LABELS.index("entail")).mean() >= train_judge.HELD_OUT_PARAPHRASE_FLOOR


@pytest.mark.real_model
def test_the_shipped_judge_reads_each_pinterest_reference_beside_itself_as_entailing():
    # A judge that reads a claim as wrong whatever it is read beside has learned which topics the
    # wrong claims in its data were about, not how a sentence relates to a reference: judges
    # trained on 2026-12-07 with the voiced wrong claims read as few as 0.69 of these as entailing
    # (or 4% as contradictions at the threshold), and "L1 drives some weights to zero." beside
    # itself as 0.38 contradiction (model card).
    from grader.engine.loader import load_company

    references = sorted({ref for question in load_company("pinterest").questions.values()
                         for point in question.points for ref in point.references})
    assert len(references) >= 300
    verdicts = MiniLMJudge().judge([(ref, ref) for ref in references])
    assert (verdicts.argmax(axis=1) == LABELS.index("entail")).mean() >= 0.9
    assert (verdicts[:, LABELS.index("contradict")] >= grading.JUDGE_CONTRADICTS).mean() <= 0.01


@pytest.mark.real_model
def test_a_verdict_does_not_depend_on_the_pairs_read_with_it():
    # In bfloat16 a batch of another shape moves a verdict by up to 0.01; a grade must not depend on
    # which other answers were graded in the same batch.
    judge = MiniLMJudge()
    reference = "L1 regularization drives some weights exactly to zero, so it selects features."
    pair = ("l1 pushes a bunch of weights all the way to zero", reference)
    others = [
        (f"Sentence number {n} talks about something rather longer than the first one does, {'very ' * n}much.",
         reference)
        for n in range(11)
    ]
    alone = judge.judge([pair])[0]
    judge.forget()
    in_company = judge.judge([*others[:5], pair, *others[5:]])[5]
    assert (alone == in_company).all()


def _rubric_pairs() -> list[tuple[str, str]]:
    """Each Pinterest reference beside its point's other phrasings and misconceptions."""
    from grader.engine.loader import load_company

    pairs = []
    for question in load_company("pinterest").questions.values():
        for point in question.points:
            reference = point.references[0]
            pairs += [(other, reference) for other in point.references[1:]]
            pairs += [(phrase, reference) for m in point.misconceptions for phrase in m.phrasings]
    return pairs


@pytest.mark.real_model
def test_the_packed_pass_reads_pairs_as_the_network_itself_does():
    from grader.engine.judge import PACKED_TOLERANCE

    judge = MiniLMJudge()
    judge.load()
    assert judge._packed is not None  # the load-time check passed on this machine
    pairs = _rubric_pairs()
    assert len(pairs) > 100
    packed = judge._run(pairs)
    # The stock pass needs the weights the packed pass freed, so it runs on a judge kept whole.
    stock_judge = MiniLMJudge()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(MiniLMJudge, "_packed_reads_as_stock", lambda self, packed, base: False)
        stock_judge.load()
    assert not stock_judge.fast_path and stock_judge._model is not None
    stock = stock_judge._run(pairs)
    assert float(abs(packed - stock).max()) <= PACKED_TOLERANCE
    assert (packed.argmax(axis=1) == stock.argmax(axis=1)).mean() >= 0.98


@pytest.mark.real_model
def test_a_judge_whose_packed_pass_drifts_uses_its_own_forward_pass(monkeypatch):
    monkeypatch.setattr("grader.engine.judge.PACKED_TOLERANCE", -1.0)
    judge = MiniLMJudge()
    judge.load()
    assert not judge.fast_path and judge._model is not None
    paraphrase = judge.judge([("l1 pushes a bunch of weights all the way to zero", "L1 drives some weights to zero.")])
    assert paraphrase[0].argmax() == LABELS.index("entail")


@pytest.mark.real_model
def test_a_textbook_definition_earns_its_point_with_the_shipped_judge():
    from grader.engine.grading import grader_for_pack
    from grader.engine.loader import find_question, load_all

    loaded, question = find_question("pinterest.screen.overfitting", load_all())
    answer = (
        "Overfitting is when the model memorizes the noise in its training data, so training error is "
        "low but validation error is much higher."
    )
    points = {p.point_id: p for p in grader_for_pack(loaded).grade(question, answer).points}
    assert points["fits-noise"].covered and points["generalization-gap"].covered


@pytest.mark.real_model
def test_in_float32_a_short_pair_reads_the_same_alone_and_in_company(monkeypatch):
    # A float32 product of fewer than 12 rows rounds differently from a larger one; a pass holding
    # one short pair must still give the verdict that pair gets among others.
    monkeypatch.setattr("grader.engine.judge.bfloat16_allowed", lambda: False)
    judge = MiniLMJudge()
    pair = ("Dropout.", "Use dropout.")
    alone = judge.judge([pair])[0]
    judge.forget()
    others = [(f"Sentence {n} is about something else entirely, {'very ' * n}much.", "Use dropout.") for n in range(6)]
    in_company = judge.judge([*others[:3], pair, *others[3:]])[3]
    assert (alone == in_company).all()


@pytest.mark.real_model
def test_a_judge_loaded_before_the_encoder_is_quiet_and_sets_up_torch_as_the_encoder_does():
    # The grader loads the judge first: a progress bar on stderr would tear through the TUI, and
    # OpenMP reads its wait policy only when torch is first imported.
    import os
    import subprocess
    import sys

    script = (
        "import os\n"
        "from grader.engine.judge import MiniLMJudge\n"
        "import sys\n"
        "judge = MiniLMJudge()\n"
        "judge.load()\n"
        "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('HF_HUB_OFFLINE'), judge.fast_path)\n"
        "print('transformers' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "HF_HUB_OFFLINE")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    # The packed pass, checked against the recorded verdicts: transformers is never imported.
    assert done.stdout.split() == ["PASSIVE", "1", "True", "False", "False"]
    assert "Loading weights" not in done.stderr and "%|" not in done.stderr


@pytest.mark.real_model
def test_a_judge_loaded_after_the_encoder_shares_its_embeddings_and_reads_pairs_the_same(real_encoder):
    from grader.engine.encoder import loaded_packaged_embeddings, packaged_model_path

    shared = MiniLMJudge()
    shared.load()
    assert shared._packed._bert.embeddings is loaded_packaged_embeddings() is not None
    own = MiniLMJudge(base_path=packaged_model_path())  # an explicit base loads its own copy
    own.load()
    assert own._packed._bert.embeddings is not shared._packed._bert.embeddings
    pairs = _rubric_pairs()[:60]
    assert (shared.judge(pairs) == own.judge(pairs)).all()


@pytest.mark.real_model
def test_the_recorded_check_verdicts_are_the_networks_own():
    from safetensors.torch import load_file

    from grader.engine.encoder import packaged_model_path
    from grader.engine.judge import (
        build_model,
        judge_tokenizer,
        recorded_check_probabilities,
        stock_check_probabilities,
    )

    recorded = recorded_check_probabilities(JUDGE_WEIGHTS_PATH, stored_judge_id())
    assert recorded is not None, "run scripts/record_model_checks.py"
    network = build_model(packaged_model_path())
    network.load_state_dict(load_file(str(JUDGE_WEIGHTS_PATH)), strict=False)
    stock = stock_check_probabilities(network.eval(), judge_tokenizer(packaged_model_path()))
    assert float(abs(recorded - stock).max()) <= 1e-4


@pytest.mark.real_model
def test_weights_without_a_record_are_checked_against_the_network_at_load(tmp_path: Path, monkeypatch):
    import shutil

    from grader.engine.judge import check_path

    built = []
    genuine = MiniLMJudge._stock_network
    monkeypatch.setattr(MiniLMJudge, "_stock_network", lambda self, base: built.append(base) or genuine(self, base))

    copied = tmp_path / "weights.safetensors"
    shutil.copy(JUDGE_WEIGHTS_PATH, copied)
    assert not check_path(copied).exists()
    judge = MiniLMJudge(copied)
    judge.load()
    assert judge.fast_path and len(built) == 1  # built to give the check verdicts, then dropped
    assert judge._model is None
    pair = ("l1 pushes a bunch of weights all the way to zero", "L1 drives some weights to zero.")
    assert (judge.judge([pair]) == MiniLMJudge().judge([pair])).all()
