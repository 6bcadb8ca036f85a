import math

import pytest

from grader.evaluation.metrics import (
    agreement_metrics,
    bootstrap_intervals,
    classification_scores,
    detection_scores,
    exact_agreement_score,
    grade_confusion_matrix,
    mean_absolute_error,
    quadratic_weighted_kappa_score,
    spearman_score,
    within_one_agreement_score,
)


def test_perfect_agreement_scores_one_and_zero_error():
    grades = [0, 1, 2, 3, 4, 2]
    assert quadratic_weighted_kappa_score(grades, grades) == 1.0
    assert mean_absolute_error(grades, grades) == 0.0
    assert exact_agreement_score(grades, grades) == 1.0


def test_qwk_penalises_far_misses_more_than_near_ones():
    truth = [0, 1, 2, 3, 4] * 4
    near = [min(4, g + 1) for g in truth]
    far = [4 - g for g in truth]
    assert quadratic_weighted_kappa_score(truth, near) > 0.7
    assert quadratic_weighted_kappa_score(truth, far) < 0


def test_within_one_and_mae():
    assert within_one_agreement_score([0, 2, 4], [1, 4, 4]) == pytest.approx(2 / 3)
    assert mean_absolute_error([0, 2, 4], [1, 4, 4]) == pytest.approx(1.0)


def test_spearman_is_nan_for_constant_predictions():
    assert math.isnan(spearman_score([0, 1, 2], [2, 2, 2]))


def test_agreement_metrics_names_its_primary_metric():
    metrics = agreement_metrics([0, 1, 2, 3], [0, 1, 2, 4])
    assert metrics["primary_metric"] == "qwk"
    assert metrics["n"] == 4
    assert set(metrics) >= {"qwk", "spearman", "pearson", "mae", "exact", "within_one"}


def test_bootstrap_interval_contains_the_point_estimate_and_is_deterministic():
    truth = [0, 1, 2, 3, 4] * 10
    pred = [g if i % 3 else min(4, g + 1) for i, g in enumerate(truth)]
    first = bootstrap_intervals(truth, pred, n_resamples=200, seed=1)
    assert first == bootstrap_intervals(truth, pred, n_resamples=200, seed=1)
    low, high = first["qwk"]
    assert low <= quadratic_weighted_kappa_score(truth, pred) <= high
    assert low < high


def test_confusion_matrix_rows_are_human_grades():
    matrix = grade_confusion_matrix([0, 4, 4], [1, 4, 3])
    assert matrix[0][1] == 1 and matrix[4][4] == 1 and matrix[4][3] == 1
    assert len(matrix) == 5 and all(len(row) == 5 for row in matrix)


def test_detection_scores():
    scores = detection_scores([True, True, False, False], [True, False, True, False])
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5 and scores["support"] == 2


def test_classification_scores():
    scores = classification_scores(["a", "a", "b", "b"], ["a", "a", "b", "a"])
    assert scores["accuracy"] == 0.75 and scores["n"] == 4
    assert 0 < scores["macro_f1"] < 1
