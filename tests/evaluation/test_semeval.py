import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.evaluation import semeval
from grader.evaluation.cli import eval_command
from tests.fakes import DIMENSION, HashingEncoder, WordJudge

QUESTIONS = {
    "q1": ("What happens when the switch is open?", ["The bulb is not lit because the circuit is open."]),
    "q2": ("Why does the nail rust?", ["Oxygen and water react with the iron in the nail."]),
    "q3": ("What makes the mineral harder?", ["Nothing scratches it so it is the hardest mineral."]),
    "q4": ("How does sound travel?", ["Sound travels as vibrations through the air to the ear."]),
}


def _rows(corpus: str, split: str, qids: list[str], n: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(len(split) + len(corpus))
    for qid in qids:
        question, refs = QUESTIONS[qid]
        for i in range(n):
            kind = rng.integers(0, 3)
            answer, label = [
                (refs[0], "correct"),
                (f"I think it is about {question.split()[2]} maybe", "incorrect"),
                (refs[0].replace(" is ", " is not ").replace(" are ", " are not "), "contradictory"),
            ][kind]
            rows.append(
                {
                    "corpus": corpus,
                    "split": split,
                    "question_id": f"{qid}-{split if 'unseen-q' in split else ''}",
                    "module": "m",
                    "question": question,
                    "reference_answers": refs,
                    "reference_answer_categories": ["BEST"],
                    "student_answer_id": f"{corpus}-{split}-{qid}-{i}",
                    "student_answer": f"{answer} ({i})",
                    "label_5way": None,
                    "label_3way": label,
                    "label_2way": "correct" if label == "correct" else "incorrect",
                }
            )
    return rows


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for corpus, splits in semeval.CORPORA.items():
        folder = tmp_path / "data" / corpus
        folder.mkdir(parents=True)
        layout = {"train": (["q1", "q2", "q3"], 12)}
        for split in splits:
            layout[split] = (["q4"], 6) if "unseen-q" in split or "domains" in split else (["q1", "q2"], 4)
        for split, (qids, n) in layout.items():
            lines = [json.dumps(r) for r in _rows(corpus, split, qids, n)]
            (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "data"


def test_benchmark_reports_every_split_and_granularity(data_dir):
    report = semeval.run_benchmark(data_dir, HashingEncoder(), folds=2)
    got = {(r["corpus"], r["split"], r["ways"]) for r in report["results"]}
    expected = {(c, s, w) for c, splits in semeval.CORPORA.items() for s in splits for w in (2, 3)}
    assert got == expected
    for row in report["results"]:
        assert {"weighted_f1", "macro_f1", "accuracy", "n"} <= set(row)
        assert 0.0 <= row["weighted_f1"] <= 1.0
    assert {b["system"] for b in report["baselines"]} >= {"tf-idf cosine", "embedding cosine", "keyword overlap"}


def test_the_headline_rows_are_the_products_grader_and_the_feature_model_sits_beside_it(data_dir):
    report = semeval.run_benchmark(data_dir, HashingEncoder(), corpora=["beetle"], ways_list=[2], folds=2)
    assert {r["system"] for r in report["results"]} == {semeval.GRADER_SYSTEM}
    feature_rows = [b for b in report["baselines"] if b["system"] == semeval.FEATURE_MODEL_SYSTEM]
    assert {r["split"] for r in feature_rows} == set(semeval.CORPORA["beetle"])


GRADER_QUESTIONS = {
    "qa": "The bulb lights because the circuit is closed.",
    "qb": "The nail rusts because oxygen and water reach the iron.",
    "qc": "The mineral is the hardest because nothing scratches it.",
    "qd": "The sound is loud because the drum skin vibrates strongly.",
}
OPPOSITES = {"closed.": "open.", "reach": "miss", "hardest": "softest", "loud": "quiet"}


def _graded(split: str, qid: str, n: int) -> list[semeval.StudentAnswer]:
    reference = GRADER_QUESTIONS[qid]
    kinds = [
        (reference, "correct"),
        ("I am not sure, maybe the weather changed that day.", "incorrect"),
        (" ".join(OPPOSITES.get(word, word) for word in reference.split()), "contradictory"),
    ]
    return [
        semeval.StudentAnswer("beetle", split, qid, "Why?", (reference,), f"{qid}-{i}", kinds[i % 3][0],
                              kinds[i % 3][1], "correct" if kinds[i % 3][1] == "correct" else "incorrect")
        for i in range(n)
    ]


def test_the_grader_path_fits_on_train_and_reads_each_kind_of_answer():
    train = [row for qid in ("qa", "qb", "qc") for row in _graded("train", qid, 12)]
    unseen = _graded("test-unseen-questions", "qd", 9)
    judge = WordJudge({word.strip("."): opposite.strip(".") for word, opposite in OPPOSITES.items()})
    predicted, calibration = semeval.grader_predictions(HashingEncoder(), judge, train, {"unseen": unseen})
    assert calibration.coverage_weights is not None and calibration.judge_id == judge.judge_id
    assert predicted["unseen"][2] == [row.label_2way for row in unseen]
    assert predicted["unseen"][3] == [row.label_3way for row in unseen]


def test_unseen_answers_use_train_neighbours_and_unseen_questions_do_not(data_dir):
    report = semeval.run_benchmark(data_dir, HashingEncoder(), corpora=["beetle"], ways_list=[2], folds=2)
    share = {
        r["split"]: r["share_with_train_answers"]
        for r in report["baselines"]
        if r["system"] == semeval.FEATURE_MODEL_SYSTEM
    }
    assert share["test-unseen-answers"] == 1.0
    assert share["test-unseen-questions"] == 0.0


def test_knn_features_never_see_the_answer_itself():
    rows = semeval.read_split  # noqa: F841 - documents where rows come from
    enc = HashingEncoder()
    answers = [
        semeval.StudentAnswer("beetle", "train", "q", "Q?", ("ref one",), f"a{i}", text, label, label)
        for i, (text, label) in enumerate([("same text", "correct"), ("same text", "incorrect"), ("other", "correct")])
    ]
    encoded = semeval.encode_rows(enc, answers)
    features = semeval.build_features(answers, encoded, np.zeros(len(answers)))
    loo = semeval.knn_features(features, features, 2, leave_one_out=True)
    # a0's identical twin a1 is incorrect: with itself excluded, its best correct neighbour is "other".
    assert loo[0, 2] == pytest.approx(1.0, abs=1e-5)  # best incorrect: the twin
    assert loo[0, 1] < 0.99  # best correct is not itself


def test_fitted_models_are_cached(data_dir, tmp_path):
    cache = tmp_path / "cache"
    first = semeval.run_benchmark(
        data_dir, HashingEncoder(), corpora=["beetle"], ways_list=[2], folds=2, cache_dir=cache
    )
    assert list(cache.glob("semeval-models-*.pkl"))
    second = semeval.run_benchmark(
        data_dir, HashingEncoder(), corpora=["beetle"], ways_list=[2], folds=2, cache_dir=cache
    )
    assert first["results"] == second["results"]


def test_bar_failures_names_the_split():
    report = {"results": [{"corpus": "beetle", "split": "test-unseen-questions", "ways": 2, "weighted_f1": 0.5}]}
    assert semeval.bar_failures(report) == ["beetle unseen questions: 0.500 < 0.78"]


def test_reference_question_is_a_one_point_rubric():
    row = semeval.StudentAnswer("sciEntsBank", "train", "EM_16b", "Why?", ("Because.",), "x", "y", "correct", "correct")
    question = semeval.reference_question(row)
    assert len(question.points) == 1 and question.points[0].references == ["Because.", "Because."]
    assert question.id == "semeval.scientsbank.em-16b"


def test_cli_needs_data_and_names_missing_files(project, data_dir):
    runner = CliRunner()
    result = runner.invoke(eval_command, ["--benchmark", "semeval2013"])
    assert result.exit_code == 2 and "needs --data" in result.output
    (data_dir / "beetle" / "train.jsonl").unlink()
    result = runner.invoke(eval_command, ["--benchmark", "semeval2013", "--data", str(data_dir)])
    assert result.exit_code == 2
    assert "beetle/train.jsonl: no such file" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_json_shape(project, data_dir, tmp_path):
    result = CliRunner().invoke(
        eval_command,
        ["--benchmark", "semeval2013", "--data", str(data_dir), "--json", "--cache-dir", str(tmp_path / "c")],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    row = payload["results"][0]
    assert set(row) >= {"corpus", "split", "ways", "weighted_f1", "macro_f1", "accuracy", "n"}


def _answer(answer: str, reference: str, question: str = "What happens?", qid: str = "q") -> semeval.StudentAnswer:
    return semeval.StudentAnswer("beetle", "train", qid, question, (reference,), "a", answer, "correct", "correct")


def test_cue_features_read_negation_and_named_parts_against_the_reference():
    reference = "Terminal 1 and the positive terminal are not connected"
    cues = dict(
        zip(
            semeval.CUE_FEATURES,
            semeval.cue_features(_answer("terminal 1 is connected to it", reference), reference, 0.8, 0.5),
            strict=True,
        )
    )
    assert cues["negation_parity_mismatch"] == 1.0 and cues["negation_count_difference"] == -1.0
    assert cues["label_recall"] == 1.0 and cues["extra_label"] == 0.0
    assert cues["reference_minus_question_cosine"] == pytest.approx(0.3)
    wrong_part = semeval.cue_features(_answer("terminal 2 isn't connected", reference), reference, 0.8, 0.5)
    assert wrong_part[:4] == [0.0, 0.0, 0.0, 1.0]  # same polarity, but names terminal 2 instead of 1


def test_question_normalised_is_relative_to_the_same_question_only():
    width = len(semeval.FEATURE_NAMES)
    values = np.zeros((5, width))
    engine = semeval.FEATURE_NAMES.index("engine_similarity")
    values[:, engine] = [0.2, 0.4, 0.6, 0.9, 0.9]
    keys = ["q1", "q1", "q1", "q2", "q2"]
    out = semeval.question_normalised(values, keys)
    column = semeval.NORMALISED_FEATURES.index("engine_similarity")
    gap = len(semeval.NORMALISED_FEATURES) + column
    assert out[:3, column] == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-3)  # z-score within q1
    assert out[:3, gap] == pytest.approx([-0.4, -0.2, 0.0])  # gap to q1's best answer
    assert out[3:, column] == pytest.approx([0.0, 0.0]) and out[3:, gap] == pytest.approx([0.0, 0.0])
    # Another question's answers never move these values.
    alone = semeval.question_normalised(values[:3], keys[:3])
    assert np.allclose(alone, out[:3])


class _RecordingEncoder(HashingEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts.extend(texts)
        return super().encode(texts)


def test_precomputed_encoder_encodes_only_what_it_lacks():
    fallback = _RecordingEncoder()
    known = semeval.EncodedCorpus({"known text": np.ones(DIMENSION, dtype=np.float32)})
    encoder = semeval.PrecomputedEncoder(known, fallback)
    out = encoder.encode(["known text", "new text", "new text"])
    assert fallback.texts == ["new text"]
    assert np.array_equal(out[0], np.ones(DIMENSION)) and np.array_equal(out[1], out[2])
    assert encoder.model_id == fallback.model_id


def test_features_encode_every_text_once(data_dir):
    encoder = _RecordingEncoder()
    data = {corpus: semeval.load_corpus(data_dir, corpus) for corpus in semeval.CORPORA}
    features = semeval.corpus_features(data, encoder)
    # Sentences (the fake token embedder also encodes single words, which may repeat) go through the
    # encoder once: the token pass's sentence vectors are reused by the features and the engine.
    sentences = [t for t in encoder.texts if " " in t.strip()]
    assert sentences and len(sentences) == len(set(sentences))
    train = features["beetle"][semeval.TRAIN]
    assert train.scalars.shape == (len(data["beetle"][semeval.TRAIN]), len(semeval.FEATURE_NAMES))
    assert np.isfinite(train.scalars).all()


def test_unseen_question_candidates_never_use_train_neighbours():
    assert all(not c.knn for c in semeval.UNSEEN_CANDIDATES)
    assert all(c.knn for c in semeval.SEEN_CANDIDATES)
