"""Simple graders mockint must beat, run on the same data under the same calibration protocol.

Each baseline turns (question, answer) into one continuous score. ``GradeMapper`` turns a score
into a 0-4 grade with cut points fitted exactly as mockint's are (``grade_cutpoints``: cumulative
logits) on the transcripts' calibration split only, so a baseline is calibrated exactly as much as
mockint is and no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from grader.engine.encoder import Encoder
from grader.engine.fitting import grade_cutpoints
from grader.engine.rubric import Question
from grader.engine.text import FUNCTION_WORDS, words

Item = tuple[Question, str]

STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | FUNCTION_WORDS


def stem(word: str) -> str:
    """A deliberately crude stemmer: enough to match "labels" with "label" and "clicked" with "click"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning: no stop words, no one- or two-letter tokens."""
    return {stem(w) for w in words(text) if w not in STOP_WORDS and (len(w) > 2 or w.isdigit())}


def reference_texts(question: Question) -> list[str]:
    """What a baseline compares against: the model answer and every point's reference phrasings."""
    return [question.model_answer, *(ref for point in question.points for ref in point.references)]


class Baseline(Protocol):
    name: str
    description: str

    def score_many(self, items: Sequence[Item]) -> np.ndarray: ...


class TfidfCosineBaseline:
    """TF-IDF cosine between the answer and the model answer joined with all reference phrasings."""

    name = "tfidf"
    description = "TF-IDF cosine to the model answer + references"

    def __init__(self, questions: Sequence[Question]) -> None:
        self._vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english", token_pattern=r"(?u)\b\w\w+\b")
        self._vectorizer.fit([" ".join(reference_texts(q)) for q in questions] or ["empty"])
        self._targets: dict[str, np.ndarray] = {}

    def _target(self, question: Question) -> np.ndarray:
        if question.id not in self._targets:
            self._targets[question.id] = self._vectorizer.transform([" ".join(reference_texts(question))])
        return self._targets[question.id]

    def score_many(self, items: Sequence[Item]) -> np.ndarray:
        if not items:
            return np.zeros(0)
        answers = self._vectorizer.transform([answer for _, answer in items])
        return np.array([float((answers[i] @ self._target(q).T).toarray()[0, 0]) for i, (q, _) in enumerate(items)])


class EmbeddingCosineBaseline:
    """Cosine between the whole answer's embedding and the model answer's embedding."""

    name = "embedding"
    description = "whole-answer embedding cosine to the model answer"

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder

    def score_many(self, items: Sequence[Item]) -> np.ndarray:
        if not items:
            return np.zeros(0)
        answers = self._encoder.encode([answer or " " for _, answer in items])
        models = self._encoder.encode([q.model_answer for q, _ in items])
        return np.sum(answers * models, axis=1).astype(float)


class KeywordOverlapBaseline:
    """Per point, the best share of a reference's content words the answer uses; weighted over points."""

    name = "keywords"
    description = "keyword overlap with each point's references"

    def score_many(self, items: Sequence[Item]) -> np.ndarray:
        scores = []
        for question, answer in items:
            used = content_words(answer)
            total = 0.0
            for point in question.points:
                best = 0.0
                for ref in point.references:
                    wanted = content_words(ref)
                    if wanted:
                        best = max(best, len(wanted & used) / len(wanted))
                total += point.weight * best
            scores.append(total / question.total_weight)
        return np.array(scores, dtype=float)


class GradeMapper:
    """Monotone map from a continuous score to a 0-4 grade through cut points fitted like mockint's."""

    def __init__(self) -> None:
        self._cuts: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        return self._cuts is not None

    def fit(self, scores: Sequence[float] | np.ndarray, grades: Sequence[int] | np.ndarray) -> GradeMapper:
        x = np.asarray(scores, dtype=float)
        y = np.asarray(grades, dtype=int)
        if x.size < 2:
            raise ValueError("need at least two calibration answers to fit a grade mapping")
        self._cuts = np.array(grade_cutpoints(x, y))
        return self

    def predict(self, scores: Sequence[float] | np.ndarray) -> np.ndarray:
        if self._cuts is None:
            raise RuntimeError("GradeMapper.fit was not called")
        x = np.asarray(scores, dtype=float)
        if x.size == 0:
            return np.zeros(0, dtype=int)
        return np.searchsorted(self._cuts, x, side="right").astype(int)


def default_baselines(encoder: Encoder, questions: Sequence[Question]) -> list[Baseline]:
    return [TfidfCosineBaseline(questions), EmbeddingCosineBaseline(encoder), KeywordOverlapBaseline()]
