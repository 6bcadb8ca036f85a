"""What grading an answer produces: a grade, a score, and the reasons for both."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from grader.engine.rubric import CONTRADICTION_PREFIX

GRADE_LABELS = {
    0: "no credit",
    1: "weak",
    2: "partial",
    3: "good",
    4: "excellent",
}


@dataclass(frozen=True)
class PointResult:
    """One rubric point: covered or not, how sure, and the candidate's sentence that earned it."""

    point_id: str
    title: str
    weight: float
    covered: bool
    probability: float
    """Estimated probability that the answer covers the point (0-1)."""
    confidence: float
    """Confidence in the verdict: ``probability`` when covered, ``1 - probability`` when not."""
    similarity: float
    """Meaning similarity of the best sentence to the point's references (mean of the closest two)."""
    evidence: str | None
    """The candidate's own sentence closest to the point (the one that earned it when covered)."""
    reason: str
    """One line explaining the verdict, e.g. why a close sentence did not earn the point."""
    feedback: str
    probe: str
    margin: float = 0.0
    """How much closer that sentence is to this point than to any other point of the question."""
    term_overlap: float = 0.0
    """Share of the closest reference's key terms that the sentence uses."""
    entailment: float = 0.0
    """The judge's probability that the sentence states the point (0 when no judge read it)."""
    contradiction: float = 0.0
    """The judge's probability that the sentence states the point's opposite."""

    @property
    def close_call(self) -> bool:
        """Whether the verdict is too uncertain to state flatly (see CLOSE_CALL_BAND): feedback says
        "not sure" rather than "missed", and marks a credited point as a close call."""
        low, high = CLOSE_CALL_BAND
        return low <= self.probability < high


CLOSE_CALL_BAND = (0.3, 0.7)
"""Coverage probabilities at which the grader's verdict on a point is shown as a close call. Set on
the style-shift tuning part (755 point verdicts; people marked the point covered for 21-35% of
points at 0.3-0.5, which are not credited, and 57-64% at 0.5-0.7, which are), against 7-14% below
0.3 and 77-90% from 0.7. On the dev part the same bands hold (25-33% and 44-59%; see README). The
grade does not change: a close call only stops feedback from telling a candidate flatly that they
missed a point they may have made."""
CLOSE_CALL_CREDITED = "(a close call: credited, but say it more plainly)"
"""How feedback marks a credited close call, wherever it is shown."""
CLOSE_CALL_NOT_CREDITED = "may say this, but not clearly enough to credit"
"""What feedback says of the sentence that nearly earned an uncredited close call ("Your sentence “…” ...")."""


def share_covered(points: list[PointResult]) -> float:
    """The plain share of a question's points judged covered (0-1), the count an interviewer keeps."""
    return sum(point.covered for point in points) / len(points) if points else 0.0


@dataclass(frozen=True)
class MisconceptionResult:
    point_id: str
    misconception_id: str
    claim: str
    correction: str
    evidence: str
    similarity: float
    margin: float = 0.0
    """How much closer the sentence is to the claim than to the point's own references."""

    @property
    def is_contradiction(self) -> bool:
        """Found by negation against a point, not one of the rubric's authored misconceptions."""
        return self.misconception_id.startswith(CONTRADICTION_PREFIX)


@dataclass(frozen=True)
class GradeResult:
    question_id: str
    grade: int
    """Calibrated 0-4 grade, the scale a human interviewer uses."""
    score: int
    """0-100: the expected grade on a finer scale, from coverage, relevant detail and misconceptions."""
    points: list[PointResult]
    coverage: float = 0.0
    """0-1: the weighted share of the rubric's points the answer covers (soft, by probability)."""
    relevant_words: int = 0
    """Words in sentences that read as sentences, address the question and contradict no point."""
    contradicted_share: float = 0.0
    """0-1: the weighted share of missed points that a sentence of the answer reads as contradicting."""
    misconceptions: list[MisconceptionResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    """Plain-language notes about the answer as a whole (empty, truncated, keyword list...)."""
    model_id: str = ""
    rubric_version: str = ""
    calibration_id: str = ""

    @property
    def label(self) -> str:
        return GRADE_LABELS[self.grade]

    @property
    def covered(self) -> list[PointResult]:
        return [point for point in self.points if point.covered]

    @property
    def missed(self) -> list[PointResult]:
        return [point for point in self.points if not point.covered]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["label"] = self.label
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        payload = {key: value for key, value in data.items() if key != "label"}
        payload["points"] = [PointResult(**point) for point in payload.get("points", [])]
        payload["misconceptions"] = [MisconceptionResult(**m) for m in payload.get("misconceptions", [])]
        return cls(**payload)
