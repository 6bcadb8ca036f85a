"""Evaluate mockint against human grades, beside the baselines, on one dataset.

``evaluate_dataset`` returns a plain dict (JSON-ready): overall agreement metrics per system with
bootstrap intervals, tables per question, per category and per rubric point, how well the
misconceptions it names agree with the human's, confusion matrices, and mockint's predictions.
Its ``primary_metric`` is quadratic weighted kappa.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from grader.engine.grading import Grader
from grader.engine.result import GradeResult
from grader.evaluation.baselines import Baseline, GradeMapper
from grader.evaluation.datasets import Dataset
from grader.evaluation.metrics import (
    PRIMARY_METRIC,
    agreement_metrics,
    bootstrap_intervals,
    detection_scores,
    grade_confusion_matrix,
)

MOCKINT = "mockint"
ADVERSARIAL_CATEGORIES = frozenset({"keyword-list", "keywords", "negation", "opposite", "off-topic"})
"""Answers that deserve nothing whatever their words: a bare list of terms, the key claims asserted in
reverse, a competent answer to another question. Their grades are reported apart (target: mean at
most 0.5, none above 1)."""
BATCH = 16
Progress = Callable[[int], None]


def grade_dataset(
    dataset: Dataset, graders: dict[str, Grader], *, progress: Progress | None = None
) -> list[GradeResult]:
    """mockint's grade for every row, in row order, batched per pack."""
    results: list[GradeResult | None] = [None] * len(dataset.rows)
    by_pack: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(dataset.rows):
        by_pack[dataset.packs[row.question_id].company].append(index)
    for company, indices in by_pack.items():
        grader = graders[company]
        for start in range(0, len(indices), BATCH):
            chunk = indices[start : start + BATCH]
            items = [(dataset.questions[dataset.rows[i].question_id], dataset.rows[i].answer) for i in chunk]
            for i, result in zip(chunk, grader.grade_many(items), strict=True):
                results[i] = result
            if progress:
                progress(len(chunk))
    return [r for r in results if r is not None]


def _items(dataset: Dataset) -> list[tuple[Any, str]]:
    return [(dataset.questions[row.question_id], row.answer) for row in dataset.rows]


def run_baselines(
    baselines: Sequence[Baseline], dataset: Dataset, calibration: Dataset | None
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Each baseline's scores and grades on ``dataset``, its grade map fitted on ``calibration`` only."""
    out: dict[str, dict[str, np.ndarray]] = {}
    notes: list[str] = []
    if calibration is None or len(calibration.rows) < 2:
        notes.append("baselines skipped: no calibration-split transcripts to fit their grade mapping on")
        return out, notes
    cal_grades = np.array([row.grade for row in calibration.rows])
    items = _items(dataset)
    cal_items = _items(calibration)
    for baseline in baselines:
        mapper = GradeMapper().fit(baseline.score_many(cal_items), cal_grades)
        scores = baseline.score_many(items)
        out[baseline.name] = {"scores": scores, "grades": mapper.predict(scores)}
    return out, notes


def _metrics_with_ci(y_true: np.ndarray, y_pred: np.ndarray, n_resamples: int, seed: int) -> dict[str, Any]:
    metrics: dict[str, Any] = agreement_metrics(y_true, y_pred)
    if n_resamples > 0:
        metrics["ci95"] = {
            name: list(bounds)
            for name, bounds in bootstrap_intervals(y_true, y_pred, n_resamples=n_resamples, seed=seed).items()
        }
    return metrics


def _grouped(
    keys: Sequence[str], y_true: np.ndarray, systems: dict[str, np.ndarray]
) -> dict[str, dict[str, dict[str, Any]]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        groups[key].append(index)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for key in sorted(groups):
        idx = np.array(groups[key])
        table[key] = {name: agreement_metrics(y_true[idx], grades[idx]) for name, grades in systems.items()}
    return table


def point_detection(dataset: Dataset, results: Sequence[GradeResult]) -> dict[str, dict[str, Any]]:
    """Precision and recall of each rubric point's 'covered' verdict against the human ``covers``."""
    truth: dict[str, list[bool]] = defaultdict(list)
    pred: dict[str, list[bool]] = defaultdict(list)
    for row, result in zip(dataset.rows, results, strict=True):
        if not dataset.has_point_labels:
            break
        covered = set(row.covers)
        for point in result.points:
            key = f"{row.question_id}#{point.point_id}"
            truth[key].append(point.point_id in covered)
            pred[key].append(point.covered)
    table = {key: detection_scores(truth[key], pred[key]) for key in sorted(truth)}
    if truth:
        all_true = [v for key in truth for v in truth[key]]
        all_pred = [v for key in pred for v in pred[key]]
        table["(all points)"] = detection_scores(all_true, all_pred)
    return table


def misconception_naming(dataset: Dataset, results: Sequence[GradeResult]) -> dict[str, Any] | None:
    """How far the misconceptions mockint names agree with the ones the human grader marked.

    Each (answer, authored misconception of its question) pair is one decision: precision is the
    share of named claims the human also marked, recall the share of marked claims mockint named.
    A false naming tells a candidate a correct sentence is wrong, so each is listed with its
    sentence. Contradictions of a point ("contradicts-...") are found by negation, not authored,
    and no transcript marks them: they are counted apart. Only rows with a ``misconceptions`` field
    count (an empty list says the human marked none); None when no row marks a misconception.
    """
    if not dataset.has_misconception_labels:
        return None
    truth: list[bool] = []
    named: list[bool] = []
    false_namings: list[dict[str, str]] = []
    contradictions = 0
    for row, result in zip(dataset.rows, results, strict=True):
        if row.misconceptions is None:
            continue
        marked = set(row.misconceptions)
        found = {m.misconception_id: m for m in result.misconceptions}
        contradictions += sum(m.is_contradiction for m in found.values())
        authored = [m.id for point in dataset.questions[row.question_id].points for m in point.misconceptions]
        for misconception_id in authored:
            truth.append(misconception_id in marked)
            named.append(misconception_id in found)
            if misconception_id in found and misconception_id not in marked:
                false_namings.append(
                    {"id": row.id, "misconception": misconception_id, "evidence": found[misconception_id].evidence}
                )
    return {
        **detection_scores(truth, named),
        "named": int(sum(named)),
        "false_namings": false_namings,
        "contradictions_named": contradictions,
    }


def evaluate_dataset(
    dataset: Dataset,
    graders: dict[str, Grader],
    *,
    baselines: Sequence[Baseline] = (),
    calibration: Dataset | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Grade ``dataset`` with mockint and the baselines and compare every system with the human grades."""
    results = grade_dataset(dataset, graders, progress=progress)
    model_ids = sorted({g.model_id for g in graders.values()})
    return evaluate_results(
        dataset, results, ", ".join(model_ids),
        baselines=baselines, calibration=calibration, n_resamples=n_resamples, seed=seed,
    )


def evaluate_results(
    dataset: Dataset,
    results: Sequence[GradeResult],
    model_id: str,
    *,
    baselines: Sequence[Baseline] = (),
    calibration: Dataset | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare mockint's ``results`` (one per row, in row order) and the baselines with the human grades."""
    y_true = np.array([row.grade for row in dataset.rows], dtype=int)
    baseline_out, notes = run_baselines(baselines, dataset, calibration)
    systems: dict[str, np.ndarray] = {MOCKINT: np.array([r.grade for r in results], dtype=int)}
    scores: dict[str, np.ndarray] = {MOCKINT: np.array([r.score for r in results], dtype=float)}
    for name, out in baseline_out.items():
        systems[name] = out["grades"]
        scores[name] = out["scores"]

    overall = {name: _metrics_with_ci(y_true, grades, n_resamples, seed) for name, grades in systems.items()}
    return {
        "dataset": dataset.name,
        "n": len(dataset.rows),
        "model_id": model_id,
        "primary_metric": PRIMARY_METRIC,
        "metrics": overall[MOCKINT],
        "systems": overall,
        "baselines": {b.name: b.description for b in baselines if b.name in baseline_out},
        "per_question": _grouped([row.question_id for row in dataset.rows], y_true, systems),
        "per_category": _grouped([row.category for row in dataset.rows], y_true, systems),
        "per_point": point_detection(dataset, results),
        "misconception_naming": misconception_naming(dataset, results),
        "confusion_matrix": {name: grade_confusion_matrix(y_true, grades) for name, grades in systems.items()},
        "grade_distribution": {
            "human": np.bincount(y_true, minlength=5).tolist(),
            **{name: np.bincount(grades, minlength=5).tolist() for name, grades in systems.items()},
        },
        "reliability": _reliability(y_true, scores[MOCKINT]),
        "adversarial": adversarial_grades(dataset, systems[MOCKINT]),
        "notes": notes,
        "predictions": [
            {
                "id": row.id,
                "question_id": row.question_id,
                "human": row.grade,
                "grade": result.grade,
                "score": result.score,
                **{name: int(systems[name][i]) for name in baseline_out},
            }
            for i, (row, result) in enumerate(zip(dataset.rows, results, strict=True))
        ],
    }


def _reliability(y_true: np.ndarray, scores: np.ndarray, bins: int = 5) -> list[dict[str, float]]:
    """Mean human grade per band of mockint's 0-100 score: a reliable score rises steadily."""
    edges = np.linspace(0, 100, bins + 1)
    rows = []
    for low, high in itertools.pairwise(edges):
        mask = (scores >= low) & ((scores < high) | (high == 100))
        rows.append(
            {
                "score_from": float(low),
                "score_to": float(high),
                "n": int(mask.sum()),
                "mean_score": float(scores[mask].mean()) if mask.any() else math.nan,
                "mean_human_grade": float(y_true[mask].mean()) if mask.any() else math.nan,
            }
        )
    return rows


def adversarial_grades(dataset: Dataset, grades: np.ndarray) -> dict[str, dict[str, float]]:
    """mockint's mean and highest grade on each adversarial category present, and on all of them."""
    table: dict[str, dict[str, float]] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(dataset.rows):
        if row.category in ADVERSARIAL_CATEGORIES:
            groups[row.category].append(index)
            groups["(all adversarial)"].append(index)
    for name in sorted(groups):
        idx = np.array(groups[name])
        table[name] = {
            "n": len(idx),
            "mean": round(float(grades[idx].mean()), 3),
            "max": int(grades[idx].max()),
            "human_mean": round(float(np.mean([dataset.rows[i].grade for i in idx])), 3),
        }
    return table
