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
