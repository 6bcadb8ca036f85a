"""Leave-one-question-out: what a newly authored question faces.

For each question with graded transcripts, everything fitted (the calibration: coverage model,
score weights, grade cuts, misconception threshold, and the word-order tables counted from the
packs' authored English) is refitted without any of that question's answers or rubric text, and
then every answer to the question (both splits) is graded. Pooled over the questions,
the figures say how the grader does on a question it has never seen graded answers for. The
rubric's wording, authored while looking at the transcripts, cannot be held out this way; the
style-shift set and data the project never sees measure that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from grader.engine.encoder import Encoder
from grader.engine.fitting import MemoEncoder, fit_calibration
from grader.engine.grading import Grader
from grader.engine.judge import Judge
from grader.engine.result import GradeResult
from grader.engine.text import is_non_answer
from grader.engine.transcripts import LabelledAnswer
from grader.evaluation.datasets import Dataset, answer_key
from grader.evaluation.harness import evaluate_results

Progress = Callable[[int], None]


def leave_one_question_out(
    encoder: Encoder,
    dataset: Dataset,
    fit_rows: Sequence[LabelledAnswer],
    *,
    n_resamples: int = 1000,
    progress: Progress | None = None,
    judge: Judge | None = None,
) -> dict[str, Any]:
    """Grade every row of ``dataset`` with a calibration fitted on ``fit_rows`` minus its question's.

    With a judge, each calibration is fitted with its evidence, as ``mockint calibrate`` does; the
    shipped judge never saw the held-out pack, so only the calibration needs refitting.

    ``fit_rows`` are what ``mockint calibrate`` fits on (the calibration split); the report is the
    harness's, with one extra table: each held-out question's own figures.
    """
    memo = MemoEncoder(encoder)
    questions = dict(dataset.questions)
    for pack in {id(p): p for p in dataset.packs.values()}.values():
        questions.update(pack.questions)
    results: list[GradeResult | None] = [None] * len(dataset.rows)
    held_out = sorted({row.question_id for row in dataset.rows})
    for question_id in held_out:
        # Nor may the same answer reach the fit under another question id (a relabelled copy); a
        # non-answer ("", "Pass.") is graded without the calibration and may be shared.
        graded_texts = {answer_key(row.answer) for row in dataset.rows
                        if row.question_id == question_id and not is_non_answer(row.answer)}
        kept = [row for row in fit_rows
                if row.question_id != question_id and answer_key(row.answer) not in graded_texts]
        # A new pack's rubric is not in the shipped calibration's authored English either.
        others = {qid: question for qid, question in questions.items() if qid != question_id}
        calibration = fit_calibration(memo, others, kept, fitted_on=f"all but {question_id}", judge=judge)
        grader = Grader(memo, calibration, judge=judge)
        indices = [i for i, row in enumerate(dataset.rows) if row.question_id == question_id]
        graded = grader.grade_many([(dataset.questions[question_id], dataset.rows[i].answer) for i in indices])
        for i, result in zip(indices, graded, strict=True):
            results[i] = result
        if progress:
            progress(1)
    report = evaluate_results(
        dataset, [r for r in results if r is not None], encoder.model_id, n_resamples=n_resamples
    )
    report["protocol"] = "leave-one-question-out"
    report["held_out_questions"] = held_out
    return report
