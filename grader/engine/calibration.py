"""Calibration: the few numbers that turn similarities into point verdicts and a score into a grade.

They are fitted once per model, across every pack's labelled transcripts (calibration split only),
by ``mockint calibrate`` and stored in the package's ``calibration.json``, one entry per model, so a
grade is never produced with numbers fitted for a different encoder, and a newly authored pack
grades with no transcripts of its own. A pack folder may still hold a ``calibration.json`` that
overrides the model's (test packs use it to pin hand-set numbers); the shipped packs do not.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

MODEL_CALIBRATION_PATH = Path(__file__).with_name("calibration.json")
"""The calibrations fitted across packs, one per model, shipped with the package."""


class CalibrationMissingError(LookupError):
    """No calibration for this encoder: grading it would mean inventing numbers."""


@dataclass(frozen=True)
class Calibration:
    model_id: str
    coverage_slope: float
    """Logistic slope on a point's best sentence similarity."""
    coverage_intercept: float
    grade_cutpoints: tuple[float, float, float, float]
    """Lowest score (0-100) that earns grade 1, 2, 3 and 4."""
    coverage_weights: tuple[float, ...] | None = None
    """Logistic weights (intercept, similarity, margin over other points, key-term overlap and, with a
    judge, the judge's entailment and contradiction) for a point's coverage; None uses the
    one-feature slope and intercept alone."""
    judge_id: str | None = None
    """The judge these numbers were fitted with (None: similarity evidence only)."""
    contradiction_weight: float = 0.0
    """Taken off the expected grade per unit of ``contradicted_share`` (the judge read a sentence as
    stating the opposite of a point the answer missed)."""
    misconception_threshold: float = 0.62
    """Similarity to a misconception phrasing at which the claim counts as stated."""
    misconception_naming_threshold: float = 0.0
    """Similarity at or above which a stated misconception is also *named* to the candidate (and caps
    the grade); between ``misconception_threshold`` and this, the sentence only loses its credit.
    Fitted for precision: a false accusation is worse than a missed one."""
    misconception_margin: float = 0.0
    """How much closer to the misconception than to the point's references a sentence must be."""
    score_weights: tuple[float, float, float, float, float] = (0.0, 3.0, 0.0, 0.0, 0.6)
    """Expected grade = w0 + w1 * coverage (0-1) + w2 * share of points covered (0-1)
    + w3 * log(1 + relevant words) - w4 * misconceptions (- contradiction_weight * contradicted share)."""
    negation_penalty: float = 0.25
    """Similarity subtracted when a sentence and a reference differ in negation."""
    echo_threshold: float = 0.8
    """Similarity to the question itself above which a sentence only restates the question."""
    word_order: list[list[float]] | None = None
    """Word-class transition log-likelihood ratios fitted on the pack's authored English."""
    word_order_threshold: float = 0.0
    """An answer of WORD_ORDER_MIN_WORDS or more scoring below this does not read as sentences."""
    word_pairs: list[str] | None = None
    """Adjacent word pairs ("is when") of the packs' authored English: the word-order test's second
    opinion (``text.WORD_PAIR_MAX_Z``); None leaves the word-class tests alone."""
    fitted_on: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @cached_property  # read for every graded answer; hashing the JSON each time cost ~1 ms
    def id(self) -> str:
        payload = json.dumps({k: v for k, v in asdict(self).items() if k != "metrics"}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:10]

    @cached_property
    def known_word_pairs(self) -> frozenset[tuple[str, str]] | None:
        if self.word_pairs is None:
            return None
        return frozenset(tuple(pair.split(" ", 1)) for pair in self.word_pairs)  # type: ignore[misc]

    def coverage_probabilities(
        self,
        similarity: np.ndarray,
        margin: np.ndarray,
        overlap: np.ndarray,
        entailment: np.ndarray | None = None,
        contradiction: np.ndarray | None = None,
    ) -> np.ndarray:
        """Vectorised coverage probability of sentences for a point."""
        if self.coverage_weights is None:
            z = self.coverage_slope * similarity + self.coverage_intercept
        else:
            w0, w_sim, w_margin, w_overlap, *judged = self.coverage_weights
            z = w0 + w_sim * similarity + w_margin * margin + w_overlap * overlap
            if judged:
                w_entail, w_contra = judged
                zeros = np.zeros_like(similarity)
                entail = zeros if entailment is None else entailment
                contra = zeros if contradiction is None else contradiction
                z = z + w_entail * entail + w_contra * contra
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    def best_judged_probabilities(
        self, similarity: np.ndarray, margin: np.ndarray, overlap: np.ndarray
    ) -> np.ndarray | None:
        """The highest coverage probability any verdict of the judge could give these sentences (the
        judge's entailment and contradiction sum to at most 1), or None when the judge has no weight."""
        if self.coverage_weights is None or len(self.coverage_weights) < 6:
            return None
        sure, never = np.ones_like(similarity), np.zeros_like(similarity)
        # The probability rises with the weighted verdict, so its best is one of the three extremes.
        return np.maximum.reduce([
            self.coverage_probabilities(similarity, margin, overlap, sure, never),
            self.coverage_probabilities(similarity, margin, overlap, never, sure),
            self.coverage_probabilities(similarity, margin, overlap, never, never),
        ])

    @property
    def coverage_threshold(self) -> float:
        """The similarity at which a point is as likely covered as not."""
        return -self.coverage_intercept / self.coverage_slope

    def score_for(
        self,
        coverage: float,
        points_covered: float,
        relevant_words: int,
        misconceptions: int,
        contradicted_share: float = 0.0,
    ) -> int:
        """The 0-100 score: the expected 0-4 grade on a finer scale (25 points a grade).

        ``coverage`` weighs every point by its probability; ``points_covered`` is the plain share of
        the question's points judged covered, the count an interviewer keeps.
        """
        w0, w1, w2, w3, w4 = self.score_weights
        expected = (
            w0
            + w1 * coverage
            + w2 * points_covered
            + w3 * math.log1p(relevant_words)
            - w4 * misconceptions
            - self.contradiction_weight * contradicted_share
        )
        return round(max(0.0, min(100.0, 25.0 * expected)))

    def grade_for(self, score: float) -> int:
        return sum(1 for cut in self.grade_cutpoints if score >= cut)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["grade_cutpoints"] = list(self.grade_cutpoints)
        data["score_weights"] = list(self.score_weights)
        data["coverage_weights"] = list(self.coverage_weights) if self.coverage_weights else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        payload = dict(data)
        payload["grade_cutpoints"] = tuple(payload["grade_cutpoints"])
        payload["score_weights"] = tuple(payload["score_weights"])
        expected = len(cls.score_weights)
        if len(payload["score_weights"]) != expected:
            raise ValueError(f"score_weights has {len(payload['score_weights'])} values, expected {expected}")
        if payload.get("coverage_weights") is not None:
            payload["coverage_weights"] = tuple(payload["coverage_weights"])
            if len(payload["coverage_weights"]) not in (4, 6):
                raise ValueError(f"coverage_weights has {len(payload['coverage_weights'])} values, expected 4 or 6")
        return cls(**payload)


def _stored_entries(path: Path) -> dict[str, Any]:
    """The raw per-model entries of a pack's ``calibration.json`` ({} when there is none)."""
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("models", {}))


def write_calibration(path: Path, calibration: Calibration) -> None:
    """Add or replace the entry for the calibration's model, keeping the others as they are.

    Other models' entries are copied without being parsed, so one written by another version of
    mockint neither blocks this write nor gets lost.
    """
    models = _stored_entries(path)
    models[calibration.model_id] = calibration.to_dict()
    payload = {
        "about": (
            "Fitted by `mockint calibrate` across every pack's transcripts (calibration split), "
            "one entry per model. Do not edit by hand."
        ),
        "models": dict(sorted(models.items())),
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def calibration_for(path: Path, model_id: str) -> Calibration:
    """The calibration of one model; only its own entry is parsed, so other models' entries in
    another version's format do not stand in its way."""
    try:
        entries = _stored_entries(path)
    except ValueError as exc:
        raise CalibrationMissingError(f"{path}: not a readable calibration file ({exc})") from None
    if model_id not in entries:
        known = ", ".join(entries) or "none"
        raise CalibrationMissingError(
            f"{path}: no calibration for model {model_id!r} (calibrated: {known}); "
            "fit one with: mockint calibrate [--model PATH]"
        )
    try:
        return Calibration.from_dict(entries[model_id])
    except (KeyError, TypeError, ValueError) as exc:
        raise CalibrationMissingError(
            f"{path}: calibration file is from another version of mockint ({exc}); "
            "refit it with: mockint calibrate"
        ) from None


def calibration_for_pack(pack_root: Path, model_id: str) -> Calibration:
    """The calibration a pack grades with: the model's one calibration, unless the pack folder holds
    its own ``calibration.json`` (an override for experiments and test packs)."""
    override = pack_root / MODEL_CALIBRATION_PATH.name
    return calibration_for(override if override.exists() else MODEL_CALIBRATION_PATH, model_id)
