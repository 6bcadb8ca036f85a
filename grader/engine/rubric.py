"""Rubric data model: company packs, rounds, questions and their weighted points.

Rubrics are authored as YAML by contributors, so every model forbids unknown keys (a typo such
as ``weigth`` must fail loudly, not be ignored) and cross-references are checked on load.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from grader.engine.coding import CodingSpec

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
QuestionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+(\.[a-z0-9-]+){2,}$")]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MAX_REFERENCES = 40
"""References per point, phrasings per misconception: every one is encoded and compared with every
sentence of every answer, so a runaway list slows grading for everyone. Four to ten is typical."""
MAX_POINTS = 24
MAX_EXAMPLES = 40

CONTRADICTION_PREFIX = "contradicts-"
"""Start of the ids the grader gives the contradictions it finds ("contradicts-<point id>")."""


class Misconception(StrictModel):
    """A wrong claim that must not earn its point and that the feedback names."""

    id: Slug
    claim: NonEmptyText = Field(description="Short statement of the wrong claim, shown to the candidate.")
    phrasings: list[NonEmptyText] = Field(
        min_length=1,
        max_length=MAX_REFERENCES,
        description="Ways a candidate might state the wrong claim; matched by meaning.",
    )
    correction: NonEmptyText = Field(description="What is actually true, in one or two sentences.")


class RubricPoint(StrictModel):
    """One thing a strong answer says, with the ways it is usually said."""

    id: Slug
    title: NonEmptyText = Field(description="Short name of the point, shown in feedback.")
    weight: float = Field(gt=0, le=10, description="Relative importance within the question.")
    references: list[NonEmptyText] = Field(
        min_length=2,
        max_length=MAX_REFERENCES,
        description="Several phrasings of the point, from textbook wording to plain words.",
    )
    misconceptions: list[Misconception] = Field(default_factory=list)
    probe: NonEmptyText = Field(description="Follow-up question the interviewer asks when the point is missed.")
    feedback: NonEmptyText = Field(description="Short feedback shown when the point is missed.")


class Resource(StrictModel):
    title: NonEmptyText
    url: str | None = None
    note: str | None = None


class WorkedExample(StrictModel):
    """An answer with the grade and points a careful interviewer gives it: the rubric's own test."""

    answer: str
    grade: int = Field(ge=0, le=4)
    second_grade: int | None = Field(
        default=None,
        ge=0,
        le=4,
        description=(
            "A second grader's blind grade where it is one away from `grade`: two careful graders "
            "disagree, so rubric check accepts either."
        ),
    )
    covers: list[Slug] = Field(default_factory=list, description="Ids of the points the answer covers.")
    note: str | None = None

    @model_validator(mode="after")
    def _check_second_grade(self) -> WorkedExample:
        if self.second_grade is not None and abs(self.second_grade - self.grade) != 1:
            raise ValueError("second_grade must be one away from grade (graders further apart: rewrite the example)")
        return self

    @property
    def accepted_grades(self) -> tuple[int, ...]:
        """The grades rubric check accepts: the written one, and the second grader's if recorded."""
        return (self.grade,) if self.second_grade is None else tuple(sorted((self.grade, self.second_grade)))


class Question(StrictModel):
    id: QuestionId
    prompt: NonEmptyText
    time_budget_seconds: int = Field(gt=0, le=3600)
    points: list[RubricPoint] = Field(min_length=1, max_length=MAX_POINTS)
    model_answer: NonEmptyText
    resources: list[Resource] = Field(default_factory=list)
    examples: list[WorkedExample] = Field(default_factory=list, max_length=MAX_EXAMPLES)
    coding: CodingSpec | None = Field(default=None, description="For a coding round: the function, tests and limits.")

    @model_validator(mode="after")
    def _check_references(self) -> Question:
        point_ids = [point.id for point in self.points]
        duplicates = sorted({pid for pid in point_ids if point_ids.count(pid) > 1})
        if duplicates:
            raise ValueError(f"duplicate point ids: {', '.join(duplicates)}")
        misconception_ids = [m.id for point in self.points for m in point.misconceptions]
        duplicates = sorted({mid for mid in misconception_ids if misconception_ids.count(mid) > 1})
        if duplicates:
            raise ValueError(f"duplicate misconception ids: {', '.join(duplicates)}")
        reserved = [mid for mid in misconception_ids if mid.startswith(CONTRADICTION_PREFIX)]
        if reserved:
            raise ValueError(
                f"misconception id {reserved[0]!r} starts with {CONTRADICTION_PREFIX!r}, which names the "
                "contradictions the grader finds itself"
            )
        known = set(point_ids)
        for index, example in enumerate(self.examples):
            unknown = [pid for pid in example.covers if pid not in known]
            if unknown:
                raise ValueError(
                    f"examples.{index}.covers names unknown point(s): {', '.join(unknown)}"
                    f" (known: {', '.join(point_ids)})"
                )
        return self

    @property
    def total_weight(self) -> float:
        return sum(point.weight for point in self.points)

    @property
    def version(self) -> str:
        """A short content hash: grades record it so a later regrade knows the rubric changed."""
        data = self.model_dump(mode="json")
        for example in data["examples"]:
            # Added later; left out when unset so the versions of rubrics that do not use it stay the same.
            if example["second_grade"] is None:
                del example["second_grade"]
        if data["coding"] is None:
            del data["coding"]  # likewise: questions without code keep their versions
        canonical = json.dumps(data, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def point(self, point_id: str) -> RubricPoint:
        for point in self.points:
            if point.id == point_id:
                return point
        raise KeyError(point_id)


RoundKind = Literal["rapid-fire", "design", "behavioral", "coding"]


class Round(StrictModel):
    id: Slug
    title: NonEmptyText
    kind: RoundKind
    time_budget_minutes: int = Field(gt=0, le=240)
    description: str | None = None
    questions: list[QuestionId] = Field(min_length=1, description="Question ids, asked in this order.")
    optional: bool = Field(default=False, description="Asked only when chosen by name (`--rounds`), not by default.")


class Pack(StrictModel):
    """A company's interview loop: rounds in order, each naming the questions it asks."""

    company: Slug
    display_name: NonEmptyText
    role: NonEmptyText
    level: str | None = None
    description: str | None = None
    hire_bar: float = Field(
        default=3.0,
        ge=0,
        le=4,
        description="Mean grade (0-4) at or above which the report signals 'hire'.",
    )
    rounds: list[Round] = Field(min_length=1)

    @property
    def default_round_ids(self) -> list[str]:
        """The rounds an interview asks when none are chosen: every round not marked optional."""
        return [round_.id for round_ in self.rounds if not round_.optional]

    @model_validator(mode="after")
    def _check_unique_rounds(self) -> Pack:
        ids = [round_.id for round_ in self.rounds]
        if len(ids) != len(set(ids)):
            raise ValueError("round ids must be unique")
        if not self.default_round_ids:
            raise ValueError("every round is optional: mark at least one round as asked by default")
        return self
