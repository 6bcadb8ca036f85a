"""BERTScore-style token alignment between a student answer and a reference answer.

Each text becomes a sequence of contextual token vectors from the SAME sentence model the grader
uses (special tokens dropped, each vector L2-normalised). Greedy matching gives, per token, its
best cosine in the other text; averaging those (optionally IDF-weighted, IDF from TRAIN answers
only) gives alignment precision (answer tokens covered by the reference), recall (reference tokens
covered by the answer) and their F1. Content-token recall restricts recall to the reference's
content tokens, and "new" recall further drops tokens the question already contains, so that
restating the question earns nothing.

Encoders without access to token vectors (test fakes, other back ends) fall back to encoding each
word on its own, which keeps the features defined everywhere. Token vectors are cached on disk as
float16, one ``.npz`` per model, so a repeated benchmark run does not touch the model.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from grader.engine.text import words
from grader.evaluation.baselines import STOP_WORDS

ALIGNMENT_FEATURES = (
    "align_precision",
    "align_recall",
    "align_f1",
    "align_precision_idf",
    "align_recall_idf",
    "align_f1_idf",
    "align_content_recall",
    "align_new_recall",
    "align_min_content_recall",
    "align_question_precision",
)


@dataclass(frozen=True)
class TokenVectors:
    tokens: tuple[str, ...]
    vectors: np.ndarray
    """One L2-normalised float32 row per token."""

    def __len__(self) -> int:
        return len(self.tokens)


class TokenEmbedder(Protocol):
    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]: ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


class TransformerTokenEmbedder:
    """Contextual word-piece vectors from a sentence-transformers model (special tokens dropped)."""

    def __init__(self, model: Any, model_id: str, *, batch_size: int = 64) -> None:
        self.model = model
        self._model_id = model_id
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return self._model_id

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]:
        if not texts:
            return []
        texts = [t if t.strip() else " " for t in texts]
        tokenizer = self.model.tokenizer
        special = set(getattr(tokenizer, "all_special_tokens", []))
        encoded = tokenizer(list(texts), truncation=True, max_length=self.model.max_seq_length)
        outputs = self.model.encode(
            list(texts), output_value="token_embeddings", batch_size=self.batch_size, show_progress_bar=False
        )
        out = []
        for ids, matrix in zip(encoded["input_ids"], outputs, strict=True):
            tokens = tokenizer.convert_ids_to_tokens(ids)
            matrix = matrix.detach().cpu().float().numpy() if hasattr(matrix, "detach") else np.asarray(matrix)
            if len(tokens) != len(matrix):  # never expected; keep the shorter, aligned prefix
                n = min(len(tokens), len(matrix))
                tokens, matrix = tokens[:n], matrix[:n]
            keep = [i for i, tok in enumerate(tokens) if tok not in special]
            out.append(TokenVectors(tuple(tokens[i] for i in keep), _normalise(matrix[keep].reshape(len(keep), -1))))
        return out


class WordTokenEmbedder:
    """Fallback: every word encoded on its own by a sentence encoder (no context)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder

    @property
    def model_id(self) -> str:
        return f"{self.encoder.model_id}#words"

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]:
        split = [words(t) for t in texts]
        vocab = list(dict.fromkeys(w for ws in split for w in ws))
        vectors = dict(zip(vocab, self.encoder.encode(vocab), strict=True)) if vocab else {}
        out = []
        for ws in split:
            matrix = np.stack([vectors[w] for w in ws]) if ws else np.zeros((0, 1), dtype=np.float32)
            out.append(TokenVectors(tuple(ws), _normalise(matrix)))
        return out


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedTokenEmbedder:
    """Token vectors cached on disk per model: float16, concatenated, with per-text offsets."""

    def __init__(self, inner: TokenEmbedder, directory: Path) -> None:
        self.inner = inner
        self.directory = directory
        self._store: dict[str, TokenVectors] | None = None
        self._dirty = False

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def path(self) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_.@#" else "_" for ch in self.model_id)
        return self.directory / f"tokens-{safe}.npz"

    def _load(self) -> dict[str, TokenVectors]:
        if self._store is None:
            self._store = {}
            if self.path.exists():
                try:
                    with np.load(self.path) as data:
                        keys, lengths = data["keys"], data["lengths"]
                        tokens, matrix = data["tokens"], data["vectors"].astype(np.float32)
                    bounds = np.concatenate([[0], np.cumsum(lengths)])
                    token_list = tokens.tolist()
                    for i, key in enumerate(keys.tolist()):
                        lo, hi = int(bounds[i]), int(bounds[i + 1])
                        self._store[key] = TokenVectors(tuple(token_list[lo:hi]), matrix[lo:hi])
                except (OSError, KeyError, ValueError):
                    self._store = {}  # a corrupt cache is rebuilt, never trusted
        return self._store

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]:
        store = self._load()
        keys = [_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in store))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            for key, value in zip(missing, self.inner.embed([by_key[k] for k in missing]), strict=True):
                # round-trip through float16 now, so a cold and a repeated run see identical vectors
                store[key] = TokenVectors(value.tokens, value.vectors.astype(np.float16).astype(np.float32))
            self._dirty = True
        return [store[k] for k in keys]

    def save(self) -> None:
        if not self._dirty or self._store is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        items = list(self._store.items())
        dims = {v.vectors.shape[1] for _, v in items if len(v)}
        dim = dims.pop() if len(dims) == 1 else 1
        matrices = [v.vectors if len(v) else np.zeros((0, dim), dtype=np.float32) for _, v in items]
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".npz.tmp")
        os.close(fd)
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                keys=np.array([k for k, _ in items]),
                lengths=np.array([len(v) for _, v in items], dtype=np.int32),
                tokens=np.array([t for _, v in items for t in v.tokens], dtype=str),
                vectors=np.concatenate(matrices).astype(np.float16) if matrices else np.zeros((0, 1), np.float16),
            )
        os.replace(tmp, self.path)
        self._dirty = False


def token_embedder_for(encoder: Any, cache_dir: Path | None = None) -> TokenEmbedder:
    """The token embedder matching ``encoder``: the same sentence-transformers weights when reachable.

    Unwraps caching wrappers (anything with an ``encoder`` attribute); a ``SentenceTransformerEncoder``
    yields contextual word-piece vectors, anything else the per-word fallback.
    """
    from grader.engine.encoder import SentenceTransformerEncoder

    inner = encoder
    while not isinstance(inner, SentenceTransformerEncoder) and hasattr(inner, "encoder"):
        inner = inner.encoder
    embedder: TokenEmbedder
    if isinstance(inner, SentenceTransformerEncoder):
        embedder = TransformerTokenEmbedder(inner.sentence_model, f"{inner.model_id}#tokens")
    else:
        embedder = WordTokenEmbedder(encoder)
    return CachedTokenEmbedder(embedder, cache_dir) if cache_dir is not None else embedder


# -- features --------------------------------------------------------------------------------------


def _word_of(tokens: Sequence[str]) -> list[str]:
    """The whole word each word piece belongs to ('##' pieces join the word before them)."""
    out: list[str] = []
    current = ""
    starts: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.startswith("##") and starts:
            current += tok[2:]
        else:
            if starts:
                out.extend([current] * (i - starts[-1]))
            starts.append(i)
            current = tok
    if starts:
        out.extend([current] * (len(tokens) - starts[-1]))
    return out


def content_mask(tokens: Sequence[str]) -> np.ndarray:
    """Tokens of content words: alphanumeric, not a stop word, longer than two characters."""
    return np.array([w.isalnum() and w.lower() not in STOP_WORDS and len(w) > 2 for w in _word_of(tokens)], dtype=bool)


def token_idf(documents: Iterable[TokenVectors]) -> tuple[dict[str, float], float]:
    """Smoothed IDF of each token over ``documents`` (TRAIN answers only), and the unseen-token IDF."""
    df: dict[str, int] = {}
    n = 0
    for doc in documents:
        n += 1
        for tok in set(doc.tokens):
            df[tok] = df.get(tok, 0) + 1
    default = math.log((n + 1) / 1)
    return {tok: math.log((n + 1) / (count + 1)) for tok, count in df.items()}, default


def greedy_alignment(
    answer: TokenVectors, reference: TokenVectors, idf: dict[str, float] | None = None, default_idf: float = 1.0
) -> tuple[float, float, float]:
    """BERTScore greedy matching: (precision, recall, F1), IDF-weighted when ``idf`` is given."""
    if not len(answer) or not len(reference):
        return 0.0, 0.0, 0.0
    sims = answer.vectors @ reference.vectors.T
    best_for_answer = sims.max(axis=1)
    best_for_reference = sims.max(axis=0)
    if idf is None:
        precision = float(best_for_answer.mean())
        recall = float(best_for_reference.mean())
    else:
        wa = np.array([idf.get(t, default_idf) for t in answer.tokens]) + 1e-9
        wr = np.array([idf.get(t, default_idf) for t in reference.tokens]) + 1e-9
        precision = float(best_for_answer @ wa / wa.sum())
        recall = float(best_for_reference @ wr / wr.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


def alignment_features(
    answer: TokenVectors,
    references: Sequence[TokenVectors],
    question: TokenVectors,
    idf: dict[str, float],
    default_idf: float,
) -> list[float]:
    """The ALIGNMENT_FEATURES of one answer, each taken from its best reference (by alignment F1)."""
    plain = [greedy_alignment(answer, ref) for ref in references]
    weighted = [greedy_alignment(answer, ref, idf, default_idf) for ref in references]
    best = max(range(len(references)), key=lambda i: plain[i][2])
    best_idf = max(range(len(references)), key=lambda i: weighted[i][2])
    ref = references[best]
    content_recall = new_recall = min_content = 0.0
    if len(answer) and len(ref):
        covered = (ref.vectors @ answer.vectors.T).max(axis=1)
        mask = content_mask(ref.tokens)
        if mask.any():
            content_recall = float(covered[mask].mean())
            min_content = float(covered[mask].min())
        question_words = {w.lower() for w in _word_of(question.tokens)}
        new = mask & np.array([w.lower() not in question_words for w in _word_of(ref.tokens)], dtype=bool)
        new_recall = float(covered[new].mean()) if new.any() else content_recall
    question_precision = greedy_alignment(answer, question)[0] if len(question) else 0.0
    return [
        *plain[best],
        *weighted[best_idf],
        content_recall,
        new_recall,
        min_content,
        question_precision,
    ]
