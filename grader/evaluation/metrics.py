"""Agreement metrics between human and machine grades, named and called like scikit-learn's.

``*_score`` is higher-is-better, ``*_error`` lower-is-better; every function takes
``(y_true, y_pred)``. ``agreement_report`` bundles them into one dict whose primary metric is
quadratic weighted kappa, the usual figure for ordinal grades.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score

PRIMARY_METRIC = "qwk"
GRADES = (0, 1, 2, 3, 4)

ArrayLike = Sequence[float] | np.ndarray


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=float)
    pred = np.asarray(y_pred, dtype=float)
    if true.shape != pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {true.shape[0]} vs {pred.shape[0]}")
    return true, pred


def quadratic_weighted_kappa_score(y_true: ArrayLike, y_pred: ArrayLike, *, labels: Sequence[int] = GRADES) -> float:
    """Cohen's kappa with quadratic weights over the 0-4 scale; 1 is perfect, 0 is chance."""
    true, pred = _pair(y_true, y_pred)
    if true.size == 0:
        return math.nan
    if np.all(true == pred):
        return 1.0  # sklearn returns nan when a single grade is used and both agree
    value = cohen_kappa_score(true.astype(int), pred.astype(int), labels=list(labels), weights="quadratic")
    return float(value)


def spearman_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    true, pred = _pair(y_true, y_pred)
    if true.size < 2 or np.ptp(true) == 0 or np.ptp(pred) == 0:
        return math.nan
    return float(stats.spearmanr(true, pred).statistic)


def pearson_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    true, pred = _pair(y_true, y_pred)
    if true.size < 2 or np.ptp(true) == 0 or np.ptp(pred) == 0:
        return math.nan
    return float(stats.pearsonr(true, pred).statistic)


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred))) if true.size else math.nan


def exact_agreement_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of answers given exactly the human grade."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(true == pred)) if true.size else math.nan


def within_one_agreement_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of answers graded at most one grade away from the human grade."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred) <= 1)) if true.size else math.nan


AGREEMENT_METRICS: dict[str, Callable[[ArrayLike, ArrayLike], float]] = {
    "qwk": quadratic_weighted_kappa_score,
    "spearman": spearman_score,
    "pearson": pearson_score,
    "mae": mean_absolute_error,
    "exact": exact_agreement_score,
    "within_one": within_one_agreement_score,
}
"""Short names used in tables and JSON, mapped to the functions above."""

HIGHER_IS_BETTER = {"qwk": True, "spearman": True, "pearson": True, "mae": False, "exact": True, "within_one": True}


def agreement_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """Every agreement metric plus ``n``, with ``primary_metric`` naming the headline one."""
    result: dict[str, Any] = {name: fn(y_true, y_pred) for name, fn in AGREEMENT_METRICS.items()}
    result["n"] = len(y_true)
    result["primary_metric"] = PRIMARY_METRIC
    return result


def bootstrap_intervals(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    metrics: Sequence[str] = tuple(AGREEMENT_METRICS),
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals (resampling answers with replacement) for each named metric."""
    true, pred = _pair(y_true, y_pred)
    if true.size < 2:
        return {name: (math.nan, math.nan) for name in metrics}
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, true.size, size=(n_resamples, true.size))
    alpha = (1.0 - confidence) / 2.0
    intervals: dict[str, tuple[float, float]] = {}
    for name in metrics:
        fn = AGREEMENT_METRICS[name]
        values = np.array([fn(true[row], pred[row]) for row in indices], dtype=float)
        values = values[~np.isnan(values)]
        if values.size == 0:
            intervals[name] = (math.nan, math.nan)
        else:
            intervals[name] = (float(np.quantile(values, alpha)), float(np.quantile(values, 1.0 - alpha)))
    return intervals


def grade_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike) -> list[list[int]]:
    """Rows are human grades 0-4, columns machine grades 0-4."""
    true, pred = _pair(y_true, y_pred)
    return confusion_matrix(true.astype(int), pred.astype(int), labels=list(GRADES)).tolist()


def detection_scores(y_true: Sequence[bool], y_pred: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of a yes/no detection (e.g. a rubric point marked covered)."""
    true = np.asarray(y_true, dtype=bool)
    pred = np.asarray(y_pred, dtype=bool)
    tp = int(np.sum(true & pred))
    fp = int(np.sum(~true & pred))
    fn = int(np.sum(true & ~pred))
    precision = tp / (tp + fp) if tp + fp else math.nan
    recall = tp / (tp + fn) if tp + fn else math.nan
    f1 = 2 * precision * recall / (precision + recall) if tp else (0.0 if fp + fn else math.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "support": int(true.sum()), "n": int(true.size)}


def classification_scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """Weighted F1 (SemEval-2013's headline), macro F1 and accuracy of a label prediction."""
    true = list(y_true)
    pred = list(y_pred)
    return {
        "weighted_f1": float(f1_score(true, pred, average="weighted", zero_division=0)),
        "macro_f1": float(f1_score(true, pred, average="macro", zero_division=0)),
        "accuracy": float(np.mean(np.asarray(true) == np.asarray(pred))) if true else math.nan,
        "n": len(true),
    }
