import sys

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
    all_special_tokens = ("[CLS]", "[SEP]", "[PAD]")

    def convert_ids_to_tokens(self, ids):
        return ["[CLS]" if i == 0 else "[SEP]" if i == 99 else "[PAD]" if i == 98 else f"w{i}" for i in ids]


class _FakeModel:
    """Mimics a sentence-transformers model: ``preprocess`` pads a batch, calling it runs the forward pass."""

    tokenizer = _FakeTokenizer()

    def __init__(self):
        self.batches = []
        self.forward_passes = 0

    def preprocess(self, texts):
        self.batches.append(list(texts))
        width = max(len(t.split()) for t in texts) + 2
        ids = [[0, *range(1, len(t.split()) + 1), 99] + [98] * (width - len(t.split()) - 2) for t in texts]
        return {"input_ids": np.array(ids), "attention_mask": (np.array(ids) != 98).astype(int)}

    def __call__(self, features):
        self.forward_passes += 1
        batch, width = features["input_ids"].shape
        tokens = np.tile(np.arange(1, 3 * width + 1, dtype=np.float32).reshape(1, width, 3), (batch, 1, 1))
        sentence = np.tile(np.array([3.0, 4.0, 0.0], dtype=np.float32), (batch, 1))
        return {**features, "token_embeddings": tokens, "sentence_embedding": sentence}


def test_transformer_token_embedder_gives_tokens_and_sentence_vector_in_one_pass():
    model = _FakeModel()
    short, long = alignment.TransformerTokenEmbedder(model, "fake").embed(["two words", "three words here"])
    assert model.forward_passes == 1  # one pass yields both outputs
    assert model.batches == [["three words here", "two words"]]  # longest first: little padding
    assert short.tokens == ("w1", "w2")  # special tokens and padding dropped
    assert long.tokens == ("w1", "w2", "w3")
    assert short.vectors.shape == (2, 3)
    assert np.allclose(np.linalg.norm(short.vectors, axis=1), 1.0)
    assert np.allclose(short.sentence, [0.6, 0.8, 0.0])  # normalised sentence vector


def test_transformer_token_embedder_keeps_order_across_batches_and_workers():
    model = _FakeModel()
    texts = [" ".join(["w"] * n) for n in (3, 1, 4, 2, 5)]
    out = alignment.TransformerTokenEmbedder(model, "fake", batch_size=2, workers=2).embed(texts)
    assert [len(tv) for tv in out] == [3, 1, 4, 2, 5]
    assert model.forward_passes == 3


def test_transformer_token_embedder_loads_the_model_only_when_needed(tmp_path):
    loads = []

    def loader():
        loads.append(1)
        return _FakeModel()

    cached = alignment.CachedTokenEmbedder(alignment.TransformerTokenEmbedder(loader, "fake"), tmp_path)
    cached.embed(["two words"])
    cached.save()
    assert loads == [1]
    again = alignment.CachedTokenEmbedder(alignment.TransformerTokenEmbedder(loader, "fake"), tmp_path)
    (vectors,) = again.embed(["two words"])
    assert loads == [1]  # everything was cached: the model was never loaded
    assert np.allclose(vectors.sentence, [0.6, 0.8, 0.0])


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
    assert np.array_equal(again[1].sentence, first[0].sentence)
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
    assert scalars.shape == (2, len(semeval.FEATURE_NAMES))
    f1 = semeval.FEATURE_NAMES.index("align_f1")
    assert scalars[0, f1] == pytest.approx(1.0) and scalars[1, f1] < 0.9
    new_f1 = semeval.FEATURE_NAMES.index("new_f1")
    assert scalars[0, new_f1] == pytest.approx(1.0) and scalars[1, new_f1] < 0.9


def _demoted(answer, references, question):
    idf, default = alignment.token_idf([answer, *references])
    values, best = alignment.question_demoted_features(answer, references, question, idf, default)
    return dict(zip(alignment.QUESTION_DEMOTED_FEATURES, values, strict=True)), best


E4, E5 = np.eye(5)[3], np.eye(5)[4]


def test_restating_the_question_earns_no_new_content():
    question = _tv(["why", "circuit", "open"], [np.eye(5)[0], np.eye(5)[1], np.eye(5)[2]])
    reference = _tv(["circuit", "open", "gap"], [np.eye(5)[1], np.eye(5)[2], E4])
    echo, _ = _demoted(_tv(["circuit", "open"], [np.eye(5)[1], np.eye(5)[2]]), [reference], question)
    right, _ = _demoted(_tv(["gap"], [E4]), [reference], question)
    assert echo["echo_share"] == pytest.approx(1.0) and echo["new_precision"] == 0.0
    assert echo["new_recall_idf"] == pytest.approx(0.0, abs=1e-6)  # "gap", the one new word, is missing
    assert right["echo_share"] == 0.0 and right["new_recall_idf"] == pytest.approx(1.0)
    assert right["new_f1"] > echo["new_f1"]


def test_facets_find_the_clause_an_answer_leaves_out():
    question = _tv(["why"], [np.eye(5)[0]])
    # two clauses: "bulb lit" and "battery gap"
    reference = _tv(["bulb", "lit", "because", "battery", "gap"], np.eye(5))
    half, _ = _demoted(_tv(["bulb", "lit"], [np.eye(5)[0], np.eye(5)[1]]), [reference], _tv(["why"], [E5]))
    whole, _ = _demoted(_tv(["bulb", "lit", "battery", "gap"], np.eye(5)[[0, 1, 3, 4]]), [reference], question)
    assert half["facet_count"] == whole["facet_count"] == 2
    assert half["facet_min_recall"] == pytest.approx(0.0) and half["facet_mean_recall"] == pytest.approx(0.5)
    assert whole["facet_min_recall"] == pytest.approx(1.0) and whole["facet_matched_share"] == 1.0


def test_demoted_features_pick_the_reference_the_answer_matches():
    question = _tv(["why"], [E5])
    references = [_tv(["battery"], [np.eye(5)[2]]), _tv(["switch", "open"], [np.eye(5)[0], np.eye(5)[1]])]
    values, best = _demoted(_tv(["switch", "open"], [np.eye(5)[0], np.eye(5)[1]]), references, question)
    assert best == 1 and values["new_f1"] == pytest.approx(1.0)
    empty, best = _demoted(_tv([], np.zeros((0, 5))), references, question)
    assert best == 0 and set(empty.values()) == {0.0}


def test_token_features_match_the_one_shot_functions():
    question = _tv(["why", "circuit"], [np.eye(5)[0], np.eye(5)[1]])
    references = [_tv(["circuit", "open"], [np.eye(5)[1], np.eye(5)[2]]), _tv(["gap"], [E4])]
    answer = _tv(["open", "gap"], [np.eye(5)[2], E4])
    idf, default = alignment.token_idf([answer, *references])
    extractor = alignment.TokenFeatures(idf, default)
    for _ in range(2):  # the second call reads the cached per-text views
        aligned, demoted, _, best = extractor.extract(answer, references, question)
        assert aligned == alignment.alignment_features(answer, references, question, idf, default)
        assert (demoted, best) == alignment.question_demoted_features(answer, references, question, idf, default)


class _FakeTorch:
    def __init__(self):
        self.threads = 2

    def get_num_threads(self):
        return self.threads

    def set_num_threads(self, n):
        self.threads = n


def test_torch_threads_sets_and_restores_the_count(monkeypatch):
    fake = _FakeTorch()
    monkeypatch.setitem(sys.modules, "torch", fake)
    with alignment.torch_threads(1):
        assert fake.threads == 1
    assert fake.threads == 2
    monkeypatch.delitem(sys.modules, "torch")
    with alignment.torch_threads(1):  # torch not loaded: nothing to set, nothing imported
        assert "torch" not in sys.modules


def test_negation_scope_covers_the_words_after_a_negation_until_a_clause_break():
    tokens = ["it", "isn", "'", "t", "on", ",", "but", "the", "bulb", "is", "not", "lit"]
    assert alignment.negation_scope(tokens).tolist() == [
        False, False, False, False, True, False, False, False, False, False, False, True,
    ]  # fmt: skip
    assert alignment.negation_scope(["no", "ga", "##p"]).tolist() == [False, True, True]


def test_negation_scope_features_catch_a_flipped_claim():
    question = _tv(["why"], [E5])
    reference = _tv(["terminals", "are", "not", "connected"], np.eye(5)[[0, 1, 2, 3]])
    same = _tv(["terminals", "not", "connected"], np.eye(5)[[0, 2, 3]])
    flipped = _tv(["terminals", "are", "connected"], np.eye(5)[[0, 1, 3]])
    idf, default = alignment.token_idf([reference])
    extractor = alignment.TokenFeatures(idf, default)

    def scope(answer):
        values = extractor.extract(answer, [reference], question)[2]
        return dict(zip(alignment.NEGATION_SCOPE_FEATURES, values, strict=True))

    agree, clash = scope(same), scope(flipped)
    assert agree["negation_scope_mismatch"] == 0.0
    assert clash["negation_scope_mismatch"] == pytest.approx(0.5)  # "connected" flipped, "terminals" not
