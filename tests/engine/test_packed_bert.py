"""The packed BERT pass, over the checkpoint as ``bert_checkpoint`` reads it, against
sentence-transformers' own ``encode``: same tokens, same vectors, or it is not used.

The packed module is imported inside the fixtures, after ``real_encoder`` has loaded the model:
importing it first would import torch before the encoder sets ``OMP_WAIT_POLICY``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
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
    """The packaged model as sentence-transformers loads it: the reference every test compares with."""
    return real_encoder.sentence_model


@pytest.fixture(scope="module")
def checkpoint(real_encoder: SentenceTransformerEncoder) -> Any:
    from grader.engine.bert_checkpoint import read_sentence_checkpoint
    from grader.engine.encoder import packaged_model_path

    return read_sentence_checkpoint(packaged_model_path())


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


def test_the_packaged_model_uses_the_fast_path_without_sentence_transformers() -> None:
    # A fresh process: this one has imported sentence-transformers for the reference model.
    script = (
        "import sys\n"
        "from grader.engine.encoder import SentenceTransformerEncoder\n"
        "encoder = SentenceTransformerEncoder()\n"
        "encoder.encode(['Dropout.'])\n"
        "print(encoder.fast_path, 'sentence_transformers' in sys.modules, 'transformers' in sys.modules)\n"
    )
    assert run_python(script) == ["True", "False", "False"]


def run_python(script: str) -> list[str]:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_tokens_are_those_of_sentence_transformers(model: Any, checkpoint: Any) -> None:
    texts = rubric_texts() + EDGE_CASES + ["  padded  ", "tab\tand\nnewline", "ÉCOLE Straße", "x " * 400]
    features = model.preprocess(texts)
    for row, encoding in enumerate(checkpoint.tokenize(texts)):
        length = int(features["attention_mask"][row].sum())
        assert encoding.ids == features["input_ids"][row][:length].tolist(), texts[row]
        assert encoding.type_ids == features["token_type_ids"][row][:length].tolist()
    assert checkpoint.max_seq_length == model.max_seq_length == 256


def test_packed_matches_stock_on_every_pinterest_rubric_text(
    model: Any, checkpoint: Any, packed_bert: ModuleType
) -> None:
    texts = rubric_texts()
    assert len(texts) > 500
    fast = packed_bert.PackedBertEncoder(checkpoint).encode(texts)
    assert fast.dtype == np.float32
    assert max_difference(fast, stock_encode(model, texts)) <= TOLERANCE


def test_bfloat16_pass_stays_within_a_cosine_of_stock(model: Any, checkpoint: Any, packed_bert: ModuleType) -> None:
    from grader.engine.encoder import BFLOAT16_MIN_COSINE

    texts = rubric_texts() + EDGE_CASES
    half = packed_bert.PackedBertEncoder(checkpoint, bfloat16=True)
    assert half.bfloat16
    vectors = half.encode(texts)
    assert vectors.dtype == np.float32
    cosines = (vectors * stock_encode(model, texts)).sum(axis=1)
    assert cosines.min() >= BFLOAT16_MIN_COSINE
    assert max_difference(vectors, stock_encode(model, texts)) > TOLERANCE  # it really is another pass


def test_the_recorded_check_vectors_are_sentence_transformers_own(model: Any) -> None:
    from grader.engine.encoder import recorded_check_vectors, stock_check_vectors

    recorded = recorded_check_vectors()
    assert recorded is not None, "run scripts/record_model_checks.py"
    assert max_difference(recorded, stock_check_vectors(model)) <= TOLERANCE
    assert model.max_seq_length == 256  # lowered for the check texts and restored


def test_bfloat16_is_used_only_on_native_hardware_and_can_be_turned_off(
    model: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.engine import encoder as encoder_module

    monkeypatch.delenv("MOCKINT_FLOAT32", raising=False)
    monkeypatch.setattr(encoder_module, "_native_bfloat16", lambda: True)
    native = SentenceTransformerEncoder()
    native.load()
    assert native.fast_path and native.precision == "bfloat16"

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
    assert max_difference(emulated.encode(texts), stock_encode(model, texts)) <= TOLERANCE


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


def test_packed_matches_stock_on_edge_cases(model: Any, checkpoint: Any, packed_bert: ModuleType) -> None:
    tokens = model.preprocess([EDGE_CASES[0]])["attention_mask"].sum()
    assert len(model.tokenizer(EDGE_CASES[0])["input_ids"]) > model.max_seq_length == tokens
    packed = packed_bert.PackedBertEncoder(checkpoint)
    together = packed.encode(EDGE_CASES)
    assert max_difference(together, stock_encode(model, EDGE_CASES)) <= TOLERANCE
    # Alone, each text is its own attention group without padding: the other branch of the code.
    for text, row in zip(EDGE_CASES, together, strict=True):
        assert max_difference(packed.encode([text])[0], row) <= TOLERANCE


def test_rows_come_back_in_input_order(model: Any, checkpoint: Any, packed_bert: ModuleType) -> None:
    texts = ["short", "a much longer sentence about validation loss and early stopping", "short", "mid length text"]
    vectors = packed_bert.PackedBertEncoder(checkpoint).encode(texts)
    assert max_difference(vectors[0], vectors[2]) <= TOLERANCE
    assert max_difference(vectors, stock_encode(model, texts)) <= TOLERANCE
    assert packed_bert.PackedBertEncoder(checkpoint).encode([]).shape == (0, 384)


def test_many_passes_give_the_same_vectors(
    model: Any, checkpoint: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = rubric_texts()[:60] + EDGE_CASES
    monkeypatch.setattr(packed_bert, "TOKENS_PER_PASS", 100)
    encoder = packed_bert.PackedBertEncoder(checkpoint)
    assert max_difference(encoder.encode(texts), stock_encode(model, texts)) <= TOLERANCE


def copied_model(tmp_path: Path) -> Path:
    """The packaged model's folder, copied (weights linked) so a test can change its settings."""
    from grader.engine.encoder import packaged_model_path

    source = packaged_model_path()
    target = tmp_path / "model"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.safetensors"))
    (target / "model.safetensors").symlink_to(source / "model.safetensors")
    return target


def edit_json(file: Path, **changes: Any) -> None:
    data = json.loads(file.read_text())
    data.update(changes)
    file.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("file", "changes", "named"),
    [
        ("1_Pooling/config.json", {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}, "pooling"),
        ("config.json", {"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ("config.json", {"is_decoder": True}, "is_decoder"),
        ("config.json", {"model_type": "distilbert"}, "model_type"),
        ("config.json", {"hidden_act": "relu"}, "hidden_act"),
        ("sentence_bert_config.json", {"do_lower_case": True}, "lower-cases"),
        ("config_sentence_transformers.json", {"prompts": {"query": "query: "}}, "prompts"),
    ],
)
def test_a_layout_the_packed_pass_does_not_reproduce_is_refused(
    real_encoder: SentenceTransformerEncoder, tmp_path: Path, file: str, changes: dict[str, Any], named: str
) -> None:
    from grader.engine.bert_checkpoint import UnsupportedCheckpointError, read_sentence_checkpoint

    folder = copied_model(tmp_path)
    edit_json(folder / file, **changes)
    with pytest.raises(UnsupportedCheckpointError, match=named):
        read_sentence_checkpoint(folder)


def test_a_missing_normalize_is_refused(real_encoder: SentenceTransformerEncoder, tmp_path: Path) -> None:
    from grader.engine.bert_checkpoint import UnsupportedCheckpointError, read_sentence_checkpoint

    folder = copied_model(tmp_path)
    modules = json.loads((folder / "modules.json").read_text())
    (folder / "modules.json").write_text(json.dumps(modules[:2]))
    with pytest.raises(UnsupportedCheckpointError, match=r"modules\.json"):
        read_sentence_checkpoint(folder)


def test_a_model_the_checkpoint_reader_refuses_is_encoded_by_sentence_transformers(
    model: Any, tmp_path: Path
) -> None:
    folder = copied_model(tmp_path)
    # Lower-casing by sentence-transformers is refused; the uncased tokenizer makes it a no-op here.
    edit_json(folder / "sentence_bert_config.json", do_lower_case=True)
    encoder = SentenceTransformerEncoder(folder)
    texts = EDGE_CASES[1:]
    assert not encoder.fast_path
    vectors = encoder.encode(texts)
    assert not encoder.fast_path and encoder.sentence_model is not None
    assert max_difference(vectors, stock_encode(model, texts)) <= TOLERANCE


def test_another_model_folder_is_checked_against_its_own_stock_vectors(model: Any, tmp_path: Path) -> None:
    encoder = SentenceTransformerEncoder(copied_model(tmp_path))
    encoder.load()
    assert encoder.fast_path
    texts = EDGE_CASES[1:]
    assert max_difference(encoder.encode(texts), stock_encode(model, texts)) <= 1e-2


@pytest.mark.parametrize("failure", ["off by 1e-4", "raises"])
def test_a_failed_self_check_falls_back_to_stock_encoding(
    model: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch, failure: str
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


def test_a_stale_record_is_not_trusted(model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.engine import encoder as encoder_module

    stale = tmp_path / "encoder_check.json"
    record = json.loads(encoder_module.ENCODER_CHECK_PATH.read_text())
    record["texts"] = record["texts"][1:]
    stale.write_text(json.dumps(record))
    assert encoder_module.recorded_check_vectors(stale) is None
    stale.write_text("{not json")
    assert encoder_module.recorded_check_vectors(stale) is None
    # Without a record the packaged model is checked against sentence-transformers at load instead.
    monkeypatch.setattr(encoder_module, "ENCODER_CHECK_PATH", stale)
    encoder = SentenceTransformerEncoder()
    encoder.load()
    assert encoder.fast_path and encoder._model is not None


@pytest.mark.parametrize("bfloat16", [False, True])
def test_matrix_products_come_in_few_shapes_whatever_the_texts(
    checkpoint: Any, packed_bert: ModuleType, monkeypatch: pytest.MonkeyPatch, bfloat16: bool
) -> None:
    # oneDNN keeps a compiled kernel per product shape: exact token counts as shapes grew the process
    # by megabytes per call, without bound.
    rows_seen: set[int] = set()
    real_linear = packed_bert.functional.linear

    def recording_linear(inputs: Any, *args: Any) -> Any:
        rows_seen.add(int(inputs.shape[0]))
        return real_linear(inputs, *args)

    monkeypatch.setattr(packed_bert.functional, "linear", recording_linear)
    encoder = packed_bert.PackedBertEncoder(checkpoint, bfloat16=bfloat16)
    texts = rubric_texts()
    for count in range(1, 30):
        encoder.encode(texts[count : count * 2])
    assert rows_seen and all(rows % packed_bert.PASS_ROW_MULTIPLE == 0 for rows in rows_seen)
    # 28 calls of different token counts; their products come in no more shapes than 64-row steps allow.
    assert len(rows_seen) <= max(rows_seen) // 64 + 1


def test_in_float32_a_text_attending_alone_reads_the_same_in_a_pass_of_any_size(
    checkpoint: Any, packed_bert: ModuleType
) -> None:
    # The judge's verdicts must not depend on their batch. On some CPUs a float32 product over
    # 1,536 inputs rounds a row differently once the pass has 256 rows or more.
    import torch

    layers = packed_bert.PackedBertLayers(checkpoint.bert, attention_group_size=1)
    texts = ["l1 pushes a bunch of weights all the way to zero", *rubric_texts()]
    encodings = checkpoint.tokenize(texts)

    def hidden(count: int) -> Any:
        chosen = encodings[:count]
        ids = torch.tensor([token for encoding in chosen for token in encoding.ids])
        types = torch.tensor([token for encoding in chosen for token in encoding.type_ids])
        with torch.inference_mode():
            states = layers.hidden_states(ids, types, [len(encoding.ids) for encoding in chosen])
        return states[: len(encodings[0].ids)], len(ids)

    alone, _ = hidden(1)
    for count in (8, 40, 200):
        in_company, rows = hidden(count)
        assert torch.equal(alone, in_company), f"differs in a pass of {rows} tokens"
