"""Calibration: the score formula, fitting on labelled answers, and the stored file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from grader.engine.calibration import (
    MODEL_CALIBRATION_PATH,
    Calibration,
    CalibrationMissingError,
    calibration_for,
    calibration_for_pack,
    write_calibration,
)
from grader.engine.fitting import fit_calibration
from grader.engine.loader import load_question
from grader.engine.transcripts import read_fitting_rows, read_labelled
from tests.evaluation.conftest import QUESTION, QUESTION_ID, graded_rows
from tests.fakes import HashingEncoder

BASE = Calibration(model_id="m", coverage_slope=10.0, coverage_intercept=-5.0, grade_cutpoints=(20, 40, 60, 80))


def test_score_counts_the_share_of_points_covered_apart_from_weighted_coverage():
    counts_points = replace(BASE, score_weights=(0.0, 0.0, 4.0, 0.0, 0.0))
    assert counts_points.score_for(0.9, 0.0, 50, 0) == 0
    assert counts_points.score_for(0.1, 0.5, 0, 0) == 50
    assert replace(BASE, score_weights=(4.0, 0.0, 0.0, 0.0, 1.0)).score_for(0.0, 0.0, 0, 2) == 50


def test_other_models_entries_are_kept_verbatim_and_never_block_this_one(tmp_path: Path):
    path = tmp_path / "calibration.json"
    obsolete = {"model_id": "old", "score_weights": [0.0, 1.0, 0.0, 0.0]}  # an older four-weight format
    path.write_text(json.dumps({"models": {"old": obsolete}}), encoding="utf-8")
    write_calibration(path, BASE)
    assert json.loads(path.read_text(encoding="utf-8"))["models"]["old"] == obsolete
    assert calibration_for(path, "m") == BASE
    with pytest.raises(CalibrationMissingError, match="another version of mockint"):
        calibration_for(path, "old")


def test_a_pack_without_a_calibration_grades_with_the_models_one(tmp_path: Path):
    shipped = calibration_for(MODEL_CALIBRATION_PATH, "all-MiniLM-L6-v2")
    assert calibration_for_pack(tmp_path, "all-MiniLM-L6-v2") == shipped
    write_calibration(tmp_path / "calibration.json", replace(BASE, model_id="all-MiniLM-L6-v2"))
    assert calibration_for_pack(tmp_path, "all-MiniLM-L6-v2") == replace(BASE, model_id="all-MiniLM-L6-v2")


def test_the_shipped_packs_carry_no_calibration_of_their_own():
    rubrics = Path(__file__).resolve().parents[2] / "rubrics"
    assert not list(rubrics.glob("*/calibration.json"))


def test_fit_gives_five_score_weights_and_increasing_cut_points(tmp_path: Path):
    question_file = tmp_path / f"{QUESTION_ID}.yaml"
    question_file.write_text(yaml.safe_dump(QUESTION), encoding="utf-8")
    question = load_question(question_file)
    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text("".join(json.dumps(row) + "\n" for row in graded_rows() * 3), encoding="utf-8")
    answers = [a for a in read_labelled(rows_file) if a.split == "calibration"]
    calibration = fit_calibration(HashingEncoder(), {QUESTION_ID: question}, answers)
    assert len(calibration.score_weights) == 5
    assert list(calibration.grade_cutpoints) == sorted(set(calibration.grade_cutpoints))
    # Fitted on these answers, the grader must put the strong ones above the empty ones.
    assert calibration.metrics["calibration_split_qwk"] > 0.5

    # The word-order test's second opinion: the word pairs of the question's authored English, kept
    # through the stored file.
    first_two = tuple(question.model_answer.lower().split()[:2])
    assert first_two in calibration.known_word_pairs
    stored = tmp_path / "calibration.json"
    write_calibration(stored, calibration)
    assert calibration_for(stored, calibration.model_id).known_word_pairs == calibration.known_word_pairs


def test_the_fit_reads_every_batch_of_tuning_answers_and_no_dev_part(tmp_path: Path):
    """Each batch of other writers' answers has its own tuning and dev files; the calibration fits on
    the transcripts' calibration split and every tuning file, never on a dev file or split."""

    def write(path: Path, *rows: tuple[str, str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(
            json.dumps({"id": row_id, "question_id": QUESTION_ID, "answer": "an answer", "grade": 2, "split": split})
            + "\n" for row_id, split in rows
        ), encoding="utf-8")

    write(tmp_path / "acme" / f"{QUESTION_ID}.jsonl", ("own-cal", "calibration"), ("own-dev", "dev"))
    write(tmp_path / "style-shift" / "acme-tune.jsonl", ("batch1-tune", "calibration"))
    write(tmp_path / "style-shift" / "acme-tune-2.jsonl", ("batch2-tune", "calibration"), ("batch2-stray-dev", "dev"))
    write(tmp_path / "style-shift" / "acme-dev.jsonl", ("batch1-dev", "dev"))
    write(tmp_path / "style-shift" / "acme-dev-2.jsonl", ("batch2-dev", "dev"))
    write(tmp_path / "style-shift" / "other-tune.jsonl", ("other-company", "calibration"))

    assert sorted(row.id for row in read_fitting_rows("acme", tmp_path)) == ["batch1-tune", "batch2-tune", "own-cal"]
