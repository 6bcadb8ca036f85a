"""A tiny pack, transcripts and calibration on disk, graded with the deterministic fake encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from grader.engine.calibration import Calibration, write_calibration
from grader.evaluation import cli as eval_cli
from tests.fakes import HashingEncoder

QUESTION_ID = "acme.screen.overfitting"

QUESTION = {
    "id": QUESTION_ID,
    "prompt": "What is overfitting?",
    "time_budget_seconds": 90,
    "model_answer": (
        "Overfitting is when the model memorizes noise in the training data instead of the pattern. "
        "Training error is low while validation error is high."
    ),
    "points": [
        {
            "id": "fits-noise",
            "title": "Fits noise",
            "weight": 2,
            "references": [
                "The model memorizes noise in the training data instead of the pattern.",
                "It learns random quirks of the training examples rather than the real signal.",
            ],
            "misconceptions": [
                {
                    "id": "too-simple",
                    "claim": "Overfitting means the model is too simple.",
                    "phrasings": ["A linear model cannot fit curved shapes because it is too simple."],
                    "correction": "A model that is too simple underfits.",
                }
            ],
            "probe": "What does the model learn when it overfits?",
            "feedback": "Say that it fits noise.",
        },
        {
            "id": "gap",
            "title": "Generalization gap",
            "weight": 2,
            "references": [
                "Training error is low while validation error is high.",
                "It does well on the training set and badly on new unseen data.",
            ],
            "probe": "How do train and validation error compare?",
            "feedback": "Name the gap.",
        },
    ],
}

PACK = {
    "company": "acme",
    "display_name": "Acme",
    "role": "ML engineer",
    "rounds": [
        {
            "id": "screen",
            "title": "Screen",
            "kind": "rapid-fire",
            "time_budget_minutes": 10,
            "questions": [QUESTION_ID],
        }
    ],
}

STRONG = QUESTION["model_answer"]
PARTIAL = "The model memorizes noise in the training data instead of the pattern."
WEAK = "It is something about models and data."
NONE = "I don't know"


def graded_rows() -> list[dict]:
    rows = []
    answers = [(STRONG, 4, ["fits-noise", "gap"]), (PARTIAL, 2, ["fits-noise"]), (WEAK, 1, []), (NONE, 0, [])]
    for split in ("calibration", "dev"):
        for n, (answer, grade, covers) in enumerate(answers * 2):
            rows.append(
                {
                    "id": f"{split}-{n}",
                    "question_id": QUESTION_ID,
                    "answer": answer,
                    "grade": grade,
                    "covers": covers,
                    "category": "strong" if grade >= 3 else "other",
                    "split": split,
                }
            )
    return rows


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """rubrics/acme, transcripts/acme and a home dir under tmp, with the fake encoder patched in."""
    rubrics = tmp_path / "rubrics" / "acme"
    (rubrics / "questions").mkdir(parents=True)
    (rubrics / "pack.yaml").write_text(yaml.safe_dump(PACK), encoding="utf-8")
    (rubrics / "questions" / f"{QUESTION_ID}.yaml").write_text(yaml.safe_dump(QUESTION), encoding="utf-8")
    write_calibration(
        rubrics / "calibration.json",
        Calibration(
            model_id=HashingEncoder.model_id,
            coverage_slope=20.0,
            coverage_intercept=-6.0,
            grade_cutpoints=(10.0, 30.0, 60.0, 85.0),
        ),
    )
    transcripts = tmp_path / "transcripts" / "acme"
    transcripts.mkdir(parents=True)
    (transcripts / f"{QUESTION_ID}.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in graded_rows()), encoding="utf-8"
    )
    monkeypatch.setenv("MOCKINT_RUBRICS", str(tmp_path / "rubrics"))
    monkeypatch.setenv("MOCKINT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(eval_cli, "make_encoder", lambda model_path: HashingEncoder())
    return tmp_path
