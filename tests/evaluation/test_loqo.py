"""Leave-one-question-out: a question's answers never reach the fit that grades them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import yaml

from grader.engine.calibration import Calibration
from grader.engine.loader import load_all
from grader.evaluation import loqo
from grader.evaluation.datasets import transcripts_dataset
from tests.evaluation.conftest import PACK, QUESTION
from tests.fakes import HashingEncoder

FITTED = Calibration(model_id=HashingEncoder.model_id, coverage_slope=20.0, coverage_intercept=-6.0,
                     grade_cutpoints=(10.0, 30.0, 60.0, 85.0))


def test_each_question_is_graded_by_a_fit_that_never_saw_its_answers_or_rubric(project, monkeypatch):
    # A second question, so there is something left to fit on when either is held out.
    second = {**QUESTION, "id": "acme.screen.overfitting-again"}
    rubrics = project / "rubrics" / "acme"
    (rubrics / "questions" / f"{second['id']}.yaml").write_text(yaml.safe_dump(second), encoding="utf-8")
    pack = {**PACK, "rounds": [{**PACK["rounds"][0], "questions": [QUESTION["id"], second["id"]]}]}
    (rubrics / "pack.yaml").write_text(yaml.safe_dump(pack), encoding="utf-8")
    transcripts = project / "transcripts" / "acme"
    original = (transcripts / f"{QUESTION['id']}.jsonl").read_text(encoding="utf-8")
    (transcripts / f"{second['id']}.jsonl").write_text(
        original.replace(QUESTION["id"], second["id"]).replace('"id": "', '"id": "again-'), encoding="utf-8"
    )
    seen: list[tuple[str, set[str]]] = []

    def spy_fit(encoder, questions, rows, *, fitted_on="", judge=None):
        seen.append((fitted_on, {row.question_id for row in rows} | set(questions)))
        return replace(FITTED, fitted_on=fitted_on)

    monkeypatch.setattr(loqo, "fit_calibration", spy_fit)
    dataset = transcripts_dataset(load_all(), None, project / "transcripts")
    fit_rows = [row for row in dataset.rows if row.split == "calibration"]
    report = loqo.leave_one_question_out(HashingEncoder(), dataset, fit_rows, n_resamples=0)

    assert report["protocol"] == "leave-one-question-out"
    assert report["n"] == len(dataset.rows) == 32
    assert sorted(report["held_out_questions"]) == sorted([QUESTION["id"], second["id"]])
    assert seen == [
        (f"all but {QUESTION['id']}", {second["id"]}),
        (f"all but {second['id']}", {QUESTION["id"]}),
    ]
    # Both splits of the held-out question are graded; the strong answers beat the non-answers.
    by_id = {p["id"]: p for p in report["predictions"]}
    assert by_id["dev-0"]["grade"] > by_id["dev-3"]["grade"]
    assert by_id["again-calibration-0"]["grade"] > by_id["again-calibration-3"]["grade"]


def test_adversarial_grades_are_reported_per_category_and_together(project):
    from grader.evaluation.harness import adversarial_grades

    dataset = transcripts_dataset(load_all(), "dev", project / "transcripts")
    rows = [replace(row, category=("off-topic" if i % 2 else "keywords")) for i, row in enumerate(dataset.rows)]
    dataset = replace(dataset, rows=rows)
    grades = np.array([0, 2] * 4)
    table = adversarial_grades(dataset, grades)
    assert table["off-topic"] == {"n": 4, "mean": 2.0, "max": 2, "human_mean": 1.0}
    assert table["keywords"]["max"] == 0
    assert table["(all adversarial)"]["n"] == 8


def test_a_dataset_of_fitting_answers_is_graded_by_folds_that_never_saw_its_question(project, monkeypatch, tmp_path):
    # The style-shift tuning part is fitting data: `eval --dataset` refuses it, leave-one-question-out
    # takes it, because the fit that grades a question's answers never includes any of them, nor a
    # copy of one filed under another question.
    import json

    import pytest

    from grader.evaluation import cli as eval_cli
    from grader.evaluation.datasets import DatasetError, read_dataset

    second = {**QUESTION, "id": "acme.screen.overfitting-again"}
    rubrics = project / "rubrics" / "acme"
    (rubrics / "questions" / f"{second['id']}.yaml").write_text(yaml.safe_dump(second), encoding="utf-8")
    pack = {**PACK, "rounds": [{**PACK["rounds"][0], "questions": [QUESTION["id"], second["id"]]}]}
    (rubrics / "pack.yaml").write_text(yaml.safe_dump(pack), encoding="utf-8")
    fitting = transcripts_dataset(load_all(), "calibration", project / "transcripts").rows
    copied = next(row for row in fitting if len(row.answer.split()) > 3)
    other = [{"id": f"again-{row.id}", "question_id": second["id"], "grade": row.grade, "split": "calibration",
              "answer": row.answer if row is copied else row.answer + " That is all."} for row in fitting]
    (project / "transcripts" / "acme" / f"{second['id']}.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in other), encoding="utf-8")
    path = tmp_path / "tune.jsonl"
    path.write_text("".join(json.dumps({"id": f"tune-{row.id}", "question_id": row.question_id, "answer": row.answer,
                                        "grade": row.grade, "split": "calibration"}) + "\n" for row in fitting))
    with pytest.raises(DatasetError, match="calibration split the grader was fitted on"):
        read_dataset(path, load_all())
    fits: list[list[str]] = []

    def spy_fit(encoder, questions, rows, *, fitted_on="", judge=None):
        fits.append(sorted(row.id for row in rows))
        return replace(FITTED, fitted_on=fitted_on)

    monkeypatch.setattr(loqo, "fit_calibration", spy_fit)
    report = eval_cli.run_loqo_eval(company="acme", model=None, transcripts=project / "transcripts",
                                    n_resamples=0, dataset_path=path)
    assert report["n"] == len(fitting) > 0
    assert {p["id"] for p in report["predictions"]} == {f"tune-{row.id}" for row in fitting}
    assert report["held_out_questions"] == [QUESTION["id"]]
    # One fold: the other question's answers are fitted on, except the copy of a graded answer.
    assert fits == [sorted(f"again-{row.id}" for row in fitting if row is not copied)]
