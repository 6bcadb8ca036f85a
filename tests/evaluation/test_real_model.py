"""The harness on the real pack and the real MiniLM model: few rows, so it stays quick."""

import json

import pytest
from click.testing import CliRunner

from grader.engine.transcripts import read_transcripts
from grader.evaluation.cli import eval_command

pytestmark = pytest.mark.real_model


def test_dataset_eval_with_the_real_model_orders_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCKINT_HOME", str(tmp_path / "home"))
    dev = [row for row in read_transcripts("pinterest", "dev") if row.question_id == "pinterest.screen.overfitting"]
    best = max(dev, key=lambda row: row.grade)
    rows = [
        {"id": "best", "question_id": best.question_id, "answer": best.answer, "grade": best.grade},
        {"id": "none", "question_id": best.question_id, "answer": "I don't know", "grade": 0},
        {
            "id": "keywords",
            "question_id": best.question_id,
            "answer": "overfitting noise training error validation error generalization variance complexity",
            "grade": 0,
        },
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(eval_command, ["--dataset", str(path), "--json", "--no-baselines", "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    grades = {p["id"]: p["grade"] for p in json.loads(result.stdout)["predictions"]}
    assert grades["best"] >= 3
    assert grades["none"] == 0
    assert grades["keywords"] <= 1
