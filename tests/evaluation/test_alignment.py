import numpy as np
import pytest

from grader.evaluation import alignment, semeval
from tests.fakes import HashingEncoder


def _tv(tokens, vectors):
    return alignment.TokenVectors(tuple(tokens), np.asarray(vectors, dtype=np.float32))


E1, E2, E3 = np.eye(3)


def test_greedy_alignment_precision_recall_f1():
    answer = _tv(["bulb", "lit"], [E1, E2])
    reference = _tv(["bulb", "lit", "open"], [E1, E2, E3])
    p, r, f = alignment.greedy_alignment(answer, reference)
    assert p == pytest.approx(1.0)  # every answer token is in the reference
    assert r == pytest.approx(2 / 3)  # "open" is not covered
    assert f == pytest.approx(0.8)
    # IDF weighting: a rare missing token costs more recall than a common one.
    rare_open = alignment.greedy_alignment(answer, reference, {"bulb": 1.0, "lit": 1.0, "open": 2.0})
    assert rare_open[1] == pytest.approx(0.5)
    assert alignment.greedy_alignment(_tv([], np.zeros((0, 3))), reference) == (0.0, 0.0, 0.0)


def test_alignment_features_take_the_best_reference_and_ignore_question_words():
    answer = _tv(["circuit", "open"], [E1, E2])
    question = _tv(["why", "circuit"], [E3, E1])
    good = _tv(["circuit", "open"], [E1, E2])
    bad = _tv(["battery"], [E3])
    idf, default = alignment.token_idf([answer, good])
    found = alignment.alignment_features(answer, [bad, good], question, idf, default)
    values = dict(zip(alignment.ALIGNMENT_FEATURES, found, strict=True))
    assert values["align_f1"] == pytest.approx(1.0)
    assert values["align_new_recall"] == pytest.approx(1.0)  # "open": the one reference word not in the question
    assert values["align_question_precision"] == pytest.approx(0.5)


def test_word_pieces_join_their_word_for_content_mask():
    assert alignment.content_mask(["the", "elect", "##ron", "is", ","]).tolist() == [False, True, True, False, False]


class _FakeTokenizer:
    all_special_tokens = ("[CLS]", "[SEP]")

    def __call__(self, texts, truncation, max_length):
        return {"input_ids": [[0, *range(1, len(t.split()) + 1), 99] for t in texts]}

    def convert_ids_to_tokens(self, ids):
        return ["[CLS]" if i == 0 else "[SEP]" if i == 99 else f"w{i}" for i in ids]


class _FakeModel:
    tokenizer = _FakeTokenizer()
    max_seq_length = 16

    def encode(self, texts, output_value, batch_size, show_progress_bar):
        assert output_value == "token_embeddings"
        return [np.arange(1, 3 * (len(t.split()) + 2) + 1, dtype=np.float32).reshape(-1, 3) for t in texts]


def test_transformer_token_embedder_drops_special_tokens_and_normalises():
    (out,) = alignment.TransformerTokenEmbedder(_FakeModel(), "fake").embed(["two words"])
    assert out.tokens == ("w1", "w2")
    assert out.vectors.shape == (2, 3)
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1.0)


def test_token_cache_round_trips_and_skips_the_model(tmp_path):
    encoder = HashingEncoder()
    cached = alignment.CachedTokenEmbedder(alignment.WordTokenEmbedder(encoder), tmp_path)
    first = cached.embed(["the bulb is lit", "open circuit", ""])
    cached.save()
    calls = encoder.calls
    again = alignment.CachedTokenEmbedder(alignment.WordTokenEmbedder(encoder), tmp_path).embed(
        ["open circuit", "the bulb is lit", ""]
    )
    assert encoder.calls == calls
    assert again[1].tokens == first[0].tokens and np.array_equal(again[1].vectors, first[0].vectors)
    assert len(again[2]) == 0


def test_fake_encoder_falls_back_to_word_vectors():
    embedder = alignment.token_embedder_for(HashingEncoder())
    assert isinstance(embedder, alignment.WordTokenEmbedder)
    (tv,) = embedder.embed(["Sound travels"])
    assert tv.tokens == ("sound", "travels")


def test_benchmark_features_carry_the_alignment_columns():
    rows = [
        semeval.StudentAnswer("beetle", "train", "q", "Why?", ("the bulb is lit",), f"a{i}", text, "correct", "correct")
        for i, text in enumerate(["the bulb is lit", "no idea"])
    ]
    enc = HashingEncoder()
    features = {semeval.TRAIN: semeval.build_features(rows, semeval.encode_rows(enc, rows), np.zeros(2))}
    tokens = semeval.embed_tokens(alignment.token_embedder_for(enc), rows)
    semeval.add_alignment_features(features, tokens)
    scalars = features[semeval.TRAIN].scalars
    assert scalars.shape == (2, len(semeval.SCALAR_FEATURES) + len(semeval.ALIGNMENT_FEATURES))
    f1 = len(semeval.SCALAR_FEATURES) + semeval.ALIGNMENT_FEATURES.index("align_f1")
    assert scalars[0, f1] == pytest.approx(1.0) and scalars[1, f1] < 0.9
