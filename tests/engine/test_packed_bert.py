"""The packed BERT pass against the model's own ``encode``: same vectors, or it is not used.

The packed module is imported inside the fixtures, after ``real_encoder`` has loaded the model:
importing it first would import torch before the encoder sets ``OMP_WAIT_POLICY``.
"""

from __future__ import annotations

from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

from grader.engine.encoder import SentenceTransformerEncoder
from grader.engine.loader import load_company

pytestmark = pytest.mark.real_model

TOLERANCE = 1e-5

EDGE_CASES = [
    " ".join(["Bagging averages many high-variance trees trained on bootstrap samples."] * 40),
    "Regularisation",
    "?!...",
    "",
    "   ",
    "Régularisation L2 : la pénalité réduit la variance — 正则化 reduces variance 🙂",
    "L1 vs. L2 (e.g. λ=0.01), k=5-fold CV; AUC≈0.93",
]


@pytest.fixture(scope="module")
def model(real_encoder: SentenceTransformerEncoder) -> Any:
    return real_encoder.sentence_model


@pytest.fixture(scope="module")
def packed_bert(real_encoder: SentenceTransformerEncoder) -> ModuleType:
    from grader.engine import packed_bert

    return packed_bert


def stock_encode(model: Any, texts: list[str]) -> np.ndarray:
    return model.encode(texts, batch_size=16, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)


def rubric_texts() -> list[str]:
    texts = []
    for question in load_company("pinterest").questions.values():
        texts.append(question.model_answer)
        for point in question.points:
            texts.extend(point.references)
            for misconception in point.misconceptions:
                texts.extend(misconception.phrasings)
    return texts


def max_difference(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float(np.abs(a - b).max())


def test_the_packaged_model_uses_the_fast_path(real_encoder: SentenceTransformerEncoder, model: Any) -> None:
    assert real_encoder.fast_path
    assert model.max_seq_length == 256  # the load-time check lowers it and must restore it


def test_packed_matches_stock_on_every_pinterest_rubric_text(model: Any, packed_bert: ModuleType) -> None:
    texts = rubric_texts()
    assert len(texts) > 500
    fast = packed_bert.PackedBertEncoder(model).encode(texts)
    assert fast.dtype == np.float32
    assert max_difference(fast, stock_encode(model, texts)) <= TOLERANCE


def test_bfloat16_pass_stays_within_a_cosine_of_stock(model: Any, packed_bert: ModuleType) -> None:
    from grader.engine.encoder import BFLOAT16_MIN_COSINE

    texts = rubric_texts() + EDGE_CASES
    half = packed_bert.PackedBertEncoder(model, bfloat16=True)
    assert half.bfloat16
    vectors = half.encode(texts)
    assert vectors.dtype == np.float32
    cosines = (vectors * stock_encode(model, texts)).sum(axis=1)
    assert cosines.min() >= BFLOAT16_MIN_COSINE
    assert max_difference(vectors, stock_encode(model, texts)) > TOLERANCE  # it really is another pass


def test_bfloat16_is_used_only_on_native_hardware_and_can_be_turned_off(
    packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.engine import encoder as encoder_module

    monkeypatch.delenv("MOCKINT_FLOAT32", raising=False)
    monkeypatch.setattr(encoder_module, "_native_bfloat16", lambda: True)
    native = SentenceTransformerEncoder()
    native.load()
    assert native.fast_path and native.precision == "bfloat16"
    assert native.sentence_model.max_seq_length == 256  # the check lowers it and must restore it

    monkeypatch.setenv("MOCKINT_FLOAT32", "1")
    forced = SentenceTransformerEncoder()
    forced.load()
    assert forced.fast_path and forced.precision == "float32"

    monkeypatch.delenv("MOCKINT_FLOAT32")
    monkeypatch.setattr(encoder_module, "_native_bfloat16", lambda: False)
    emulated = SentenceTransformerEncoder()
    emulated.load()
    assert emulated.fast_path and emulated.precision == "float32"
    texts = EDGE_CASES[1:]
    assert max_difference(emulated.encode(texts), stock_encode(emulated.sentence_model, texts)) <= TOLERANCE


def test_a_bfloat16_pass_that_drifts_falls_back_to_float32(
    packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.engine import encoder as encoder_module

    genuine = packed_bert.PackedBertEncoder.encode

    def drifting(self: Any, texts: list[str]) -> np.ndarray:
        vectors = genuine(self, texts)
        if self.bfloat16:  # turn every vector a little, as a broken kernel might
            vectors = vectors + np.float32(0.05) * np.roll(vectors, 1, axis=1)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

    monkeypatch.delenv("MOCKINT_FLOAT32", raising=False)
    monkeypatch.setattr(encoder_module, "_native_bfloat16", lambda: True)
    monkeypatch.setattr(packed_bert.PackedBertEncoder, "encode", drifting)
    encoder = SentenceTransformerEncoder()
    encoder.load()
    assert encoder.fast_path and encoder.precision == "float32"
    assert encoder.sentence_model.max_seq_length == 256


def test_packed_matches_stock_on_edge_cases(model: Any, packed_bert: ModuleType) -> None:
    tokens = model.preprocess([EDGE_CASES[0]])["attention_mask"].sum()
    assert len(model.tokenizer(EDGE_CASES[0])["input_ids"]) > model.max_seq_length == tokens
    packed = packed_bert.PackedBertEncoder(model)
    together = packed.encode(EDGE_CASES)
    assert max_difference(together, stock_encode(model, EDGE_CASES)) <= TOLERANCE
    # Alone, each text is its own attention group without padding: the other branch of the code.
    for text, row in zip(EDGE_CASES, together, strict=True):
        assert max_difference(packed.encode([text])[0], row) <= TOLERANCE


def test_rows_come_back_in_input_order(model: Any, packed_bert: ModuleType) -> None:
    texts = ["short", "a much longer sentence about validation loss and early stopping", "short", "mid length text"]
    vectors = packed_bert.PackedBertEncoder(model).encode(texts)
    assert max_difference(vectors[0], vectors[2]) <= TOLERANCE
    assert max_difference(vectors, stock_encode(model, texts)) <= TOLERANCE
    assert packed_bert.PackedBertEncoder(model).encode([]).shape == (0, 384)


def test_many_passes_give_the_same_vectors(
    model: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = rubric_texts()[:60] + EDGE_CASES
    monkeypatch.setattr(packed_bert, "TOKENS_PER_PASS", 100)
    assert max_difference(packed_bert.PackedBertEncoder(model).encode(texts), stock_encode(model, texts)) <= TOLERANCE


def test_the_packaged_model_is_supported(model: Any, packed_bert: ModuleType) -> None:
    assert packed_bert.supported(model)


def test_other_pooling_or_a_missing_normalize_is_refused(model: Any, packed_bert: ModuleType) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

    dimension = model[0].auto_model.config.hidden_size
    cls_pooling = SentenceTransformer(modules=[model[0], Pooling(dimension, pooling_mode="cls"), Normalize()])
    unnormalised = SentenceTransformer(modules=[model[0], Pooling(dimension, pooling_mode="mean")])
    assert not packed_bert.supported(cls_pooling)
    assert not packed_bert.supported(unnormalised)
    assert not packed_bert.supported(SimpleNamespace(tokenizer=model.tokenizer))
    with pytest.raises(ValueError, match="only supports"):
        packed_bert.PackedBertEncoder(cls_pooling)


def test_another_architecture_is_refused(model: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import DistilBertConfig, DistilBertModel

    tiny = DistilBertModel(DistilBertConfig(vocab_size=64, dim=32, n_layers=1, n_heads=2, hidden_dim=64))
    monkeypatch.setattr(model[0], "model", tiny)
    assert not packed_bert.supported(model)


@pytest.mark.parametrize(
    ("target", "attribute", "value"),
    [
        ("config", "position_embedding_type", "relative_key"),
        ("config", "is_decoder", True),
        ("tokenizer", "padding_side", "left"),
        ("model", "default_prompt_name", "query"),
    ],
)
def test_settings_the_packed_pass_does_not_reproduce_are_refused(
    model: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch, target: str, attribute: str, value: object
) -> None:
    owner = {"config": model[0].auto_model.config, "tokenizer": model.tokenizer, "model": model}[target]
    monkeypatch.setattr(owner, attribute, value)
    assert not packed_bert.supported(model)


@pytest.mark.parametrize("failure", ["off by 1e-4", "raises"])
def test_a_failed_self_check_falls_back_to_stock_encoding(
    packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    genuine = packed_bert.PackedBertEncoder.encode

    def broken(self: Any, texts: list[str]) -> np.ndarray:
        if failure == "raises":
            raise RuntimeError("simulated failure")
        return genuine(self, texts) + np.float32(1e-4)

    monkeypatch.setattr(packed_bert.PackedBertEncoder, "encode", broken)
    encoder = SentenceTransformerEncoder()
    encoder.load()
    assert not encoder.fast_path
    texts = EDGE_CASES[1:]
    assert np.array_equal(encoder.encode(texts), stock_encode(encoder.sentence_model, texts))
    assert encoder.sentence_model.max_seq_length == 256


@pytest.mark.parametrize("bfloat16", [False, True])
def test_matrix_products_come_in_few_shapes_whatever_the_texts(
    model: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch, bfloat16: bool
) -> None:
    # oneDNN keeps a compiled kernel per product shape: exact token counts as shapes grew the process
    # by megabytes per call, without bound.
    rows_seen: set[int] = set()
    real_linear = packed_bert.functional.linear

    def recording_linear(inputs: Any, *args: Any) -> Any:
        rows_seen.add(int(inputs.shape[0]))
        return real_linear(inputs, *args)

    monkeypatch.setattr(packed_bert.functional, "linear", recording_linear)
    encoder = packed_bert.PackedBertEncoder(model, bfloat16=bfloat16)
    texts = rubric_texts()
    for count in range(1, 30):
        encoder.encode(texts[count : count * 2])
    assert rows_seen and all(rows % packed_bert.PASS_ROW_MULTIPLE == 0 for rows in rows_seen)
    # 28 calls of different token counts; their products come in no more shapes than 64-row steps allow.
    assert len(rows_seen) <= max(rows_seen) // 64 + 1
