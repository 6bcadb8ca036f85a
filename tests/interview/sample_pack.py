"""A small hand-built pack, so these tests do not depend on the real rubric files."""

from __future__ import annotations

from pathlib import Path

import yaml

from grader.engine.calibration import Calibration, write_calibration
from grader.engine.loader import LoadedPack
from grader.engine.result import GradeResult, MisconceptionResult, PointResult
from grader.engine.rubric import Pack, Question


def _point(pid: str, title: str, weight: float, refs: list[str], probe: str) -> dict:
    return {"id": pid, "title": title, "weight": weight, "references": refs, "probe": probe,
            "feedback": f"Say something about {title.lower()}."}


QUESTIONS = [
    Question.model_validate({
        "id": "acme.screen.overfitting",
        "prompt": "What is overfitting?",
        "time_budget_seconds": 120,
        "model_answer": "The model fits noise in the training data and generalises poorly.",
        "resources": [{"title": "ESL chapter 7", "url": "https://example.org/esl7"}],
        "points": [
            _point("gap", "Train/test gap", 3,
                   ["training error is low but test error is high", "it does well on training data only"],
                   "How would you notice it from the error curves?"),
            _point("noise", "Fits noise", 2,
                   ["the model memorises noise in the training set", "it learns random fluctuations"],
                   "What exactly is the model learning that it should not?"),
            _point("capacity", "Too much capacity", 1,
                   ["the model has too many parameters for the data", "model complexity is too high"],
                   "What property of the model makes it possible?"),
        ],
    }),
    Question.model_validate({
        "id": "acme.screen.l1-vs-l2",
        "prompt": "Compare L1 and L2 regularisation.",
        "time_budget_seconds": 120,
        "model_answer": "L1 gives sparse weights; L2 shrinks all weights smoothly.",
        "resources": [{"title": "ESL chapter 3", "url": "https://example.org/esl3"}],
        "points": [
            _point("sparsity", "L1 gives sparsity", 2,
                   ["l1 drives some weights exactly to zero", "lasso produces sparse models"],
                   "What happens to individual weights under L1?"),
            _point("shrink", "L2 shrinks", 2,
                   ["l2 shrinks all weights towards zero", "ridge penalises large weights smoothly"],
                   "And under L2?"),
        ],
    }),
    Question.model_validate({
        "id": "acme.design.ctr",
        "prompt": "Design an ads click-through rate model.",
        "time_budget_seconds": 600,
        "model_answer": "Log impressions and clicks, build features, train a ranking model, "
                        "evaluate offline and online.",
        "resources": [{"title": "Practical lessons from predicting clicks on ads at Facebook",
                       "url": "https://example.org/fb-ctr"}],
        "points": [
            _point("labels", "Labels from logs", 3,
                   ["labels come from logged impressions and clicks", "clicked impressions are positives"],
                   "Where would your negatives come from?"),
            _point("calibration", "Calibrated output", 2,
                   ["the predicted probability must be calibrated", "outputs should match observed rates"],
                   "Why does the auction care about the exact probability?"),
            _point("online", "Online evaluation", 1,
                   ["run an a/b test online", "compare models with an online experiment"],
                   "How would you know the new model is better in production?"),
        ],
    }),
]

PACK = Pack.model_validate({
    "company": "acme",
    "display_name": "Acme",
    "role": "ML Engineer",
    "hire_bar": 3.0,
    "rounds": [
        {"id": "screen", "title": "Screen", "kind": "rapid-fire", "time_budget_minutes": 20,
         "questions": ["acme.screen.overfitting", "acme.screen.l1-vs-l2"]},
        {"id": "design", "title": "Design", "kind": "design", "time_budget_minutes": 45,
         "questions": ["acme.design.ctr"]},
    ],
})


def sample_pack(root: Path | None = None) -> LoadedPack:
    return LoadedPack(pack=PACK, questions={q.id: q for q in QUESTIONS}, root=root or Path("/nonexistent/acme"))


FAKE_CALIBRATION = Calibration(model_id="fake-hashing", coverage_slope=12.0, coverage_intercept=-6.0,
                               grade_cutpoints=(15.0, 35.0, 60.0, 85.0))


def write_sample_pack(rubrics_dir: Path) -> Path:
    """The sample pack as YAML files, calibrated for the fake encoder; returns the pack folder."""
    root = rubrics_dir / "acme"
    (root / "questions").mkdir(parents=True)
    (root / "pack.yaml").write_text(yaml.safe_dump(PACK.model_dump(mode="json"), sort_keys=False))
    for question in QUESTIONS:
        (root / "questions" / f"{question.id}.yaml").write_text(
            yaml.safe_dump(question.model_dump(mode="json"), sort_keys=False))
    write_calibration(root / "calibration.json", FAKE_CALIBRATION)
    return root


def make_result(question: Question, covered: set[str], *, grade: int | None = None,
                misconception_on: str | None = None) -> GradeResult:
    """A hand-made grade: the named points covered (with an evidence sentence), the rest missed."""
    points = [
        PointResult(point_id=p.id, title=p.title, weight=p.weight, covered=p.id in covered,
                    probability=0.9 if p.id in covered else 0.1, confidence=0.9, similarity=0.8,
                    evidence=f"I said {p.references[0]}." if p.id in covered else None,
                    reason="test", feedback=p.feedback, probe=p.probe)
        for p in question.points
    ]
    share = sum(p.weight for p in question.points if p.id in covered) / question.total_weight
    misconceptions = []
    if misconception_on:
        misconceptions.append(MisconceptionResult(point_id=misconception_on, misconception_id="wrong",
                                                  claim="A wrong claim", correction="The truth.",
                                                  evidence="I said the wrong thing.", similarity=0.9))
    return GradeResult(question_id=question.id, grade=round(4 * share) if grade is None else grade,
                       score=round(100 * share), points=points, misconceptions=misconceptions,
                       model_id="fake-hashing", rubric_version=question.version, calibration_id="cal")
