"""A deterministic stand-in for the sentence model, for fast unit tests only.

Each word maps to a fixed pseudo-random vector (seeded by its hash); a text is the normalised
sum of its words. Shared words mean similar vectors, which is enough to drive the grader's logic
without the seconds it takes to import sentence-transformers. The product never uses it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from grader.engine.text import has_negation_word

DIMENSION = 128
_WORD = re.compile(r"[a-z0-9]+")


def _word_vector(word: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)


class HashingEncoder:
    """Bag-of-words hashing vectors; ``calls`` counts texts encoded so tests can check caching."""

    model_id = "fake-hashing"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        rows = []
        for text in texts:
            vector = np.zeros(DIMENSION, dtype=np.float32)
            for word in _WORD.findall(text.lower()):
                vector += _word_vector(word)
            norm = float(np.linalg.norm(vector))
            rows.append(vector / norm if norm else vector)
        return np.stack(rows) if rows else np.zeros((0, DIMENSION), dtype=np.float32)


class WordJudge:
    """A stand-in for the judge: entailment is the share of the reference's words the sentence uses,
    and a sentence that uses a word's listed opposite where the reference has the word contradicts.
    ``calls`` counts pairs read and ``read`` lists them, so tests can check what the grader asks it."""

    judge_id = "fake-word-judge"

    def __init__(self, opposites: dict[str, str] | None = None, *, negation_is_opposite: bool = False) -> None:
        """``negation_is_opposite``: read every sentence with "not" as a contradiction, as the real
        judge nearly does."""
        self.opposites = opposites or {"memorizes": "ignores", "low": "high"}
        self.negation_is_opposite = negation_is_opposite
        self.calls = 0
        self.read: list[tuple[str, str]] = []

    def judge(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.calls += len(pairs)
        self.read.extend(pairs)
        rows = []
        for text, reference in pairs:
            said = set(_WORD.findall(text.lower()))
            meant = set(_WORD.findall(reference.lower()))
            swapped = any(word in meant and opposite in said and opposite not in meant
                          for word, opposite in self.opposites.items())
            if swapped or (self.negation_is_opposite and has_negation_word(text)):
                rows.append([0.02, 0.96, 0.02])
                continue
            entail = len(said & meant) / len(meant) if meant else 0.0
            rows.append([entail, 0.0, 1.0 - entail])
        return np.array(rows, dtype=np.float32).reshape(-1, 3)
