"""Graded-answer datasets for evaluation: a user's JSONL file or the project's transcripts.

A dataset file has one JSON object per line with ``id``, ``question_id``, ``answer``, ``grade``
(the human grade, 0-4) and optionally ``category``, ``covers`` (point ids), ``misconceptions``
(authored misconception ids) and ``split`` -- the transcripts' format, so the lead's reader
(``grader.engine.transcripts``) parses both. This module adds what an evaluation needs on top: a
missing file, an unknown question id and a point or misconception id the question does not have are
reported with file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.engine.loader import LoadedPack, UnknownNameError, find_question
from grader.engine.rubric import Question
from grader.engine.transcripts import (
    LabelledAnswer,
    Split,
    TranscriptError,
    read_fitting_rows,
    read_labelled,
    read_transcripts,
)


class DatasetError(ValueError):
    """A dataset that cannot be evaluated; the message is one line naming the file (and line)."""


@dataclass(frozen=True)
class Dataset:
    """Graded answers, each resolved to its question and pack."""

    name: str
    rows: list[LabelledAnswer]
    questions: dict[str, Question]
    packs: dict[str, LoadedPack]
    """Question id -> the pack holding it (for its calibration)."""

    @property
    def has_point_labels(self) -> bool:
        return any(row.covers for row in self.rows)

    @property
    def has_misconception_labels(self) -> bool:
        return any(row.misconceptions for row in self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _resolve(name: str, rows: list[LabelledAnswer], packs: list[LoadedPack]) -> Dataset:
    questions: dict[str, Question] = {}
    owners: dict[str, LoadedPack] = {}
    for row in rows:
        if row.question_id in questions:
            continue
        try:
            pack, question = find_question(row.question_id, packs)
        except UnknownNameError as exc:
            raise DatasetError(f"{row.source or name}: {exc}") from None
        questions[question.id] = question
        owners[question.id] = pack
    for row in rows:
        _check_ids(row, questions[row.question_id], name)
    return Dataset(name=name, rows=rows, questions=questions, packs=owners)


def _check_ids(row: LabelledAnswer, question: Question, name: str) -> None:
    """A point or misconception id the question does not have would silently skew the detection figures."""
    points = [point.id for point in question.points]
    misconceptions = [m.id for point in question.points for m in point.misconceptions]
    for field, given, known in (("covers", row.covers, points), ("misconceptions", row.misconceptions, misconceptions)):
        unknown = [i for i in given or () if i not in known]
        if unknown:
            raise DatasetError(
                f"{row.source or name}: field {field!r} names {', '.join(map(repr, unknown))}, which "
                f"{question.id} does not have (it has: {', '.join(known) or 'none'})"
            )


def answer_key(answer: str) -> str:
    """An answer as compared for being the same answer: its words, whitespace aside."""
    return " ".join(answer.split())


def read_dataset(path: Path, packs: list[LoadedPack], *, fitting_rows_allowed: bool = False) -> Dataset:
    """Read a ``--dataset`` JSONL file; every problem raises DatasetError naming file and line.

    Rows the shipped calibration was fitted on are refused, unless ``fitting_rows_allowed``: for
    leave-one-question-out, whose fit for a question never includes that question's rows.
    """
    if not path.exists():
        raise DatasetError(f"{path}: no such file")
    if not path.is_file():
        raise DatasetError(f"{path}: not a file")
    try:
        rows = read_labelled(path)
    except TranscriptError as exc:
        raise DatasetError(str(exc)) from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read file: {exc.strerror}") from None
    if not rows:
        raise DatasetError(f"{path}: no graded answers in the file")
    # Scoring the grader on answers it was fitted on would inflate every number it reports.
    fitted_on = None if fitting_rows_allowed else {
        answer_key(row.answer) for pack in packs for row in read_fitting_rows(pack.company)
    }
    seen: dict[str, str] = {}
    for row in rows:
        if fitted_on is not None and (row.split == "calibration" or answer_key(row.answer) in fitted_on):
            raise DatasetError(
                f"{row.source}: row {row.id!r} is in the calibration split the grader was fitted on; "
                "evaluate held-out answers only"
            )
        if row.id in seen:
            raise DatasetError(f"{row.source}: duplicate id {row.id!r} (first at {seen[row.id]})")
        seen[row.id] = row.source
    return _resolve(str(path), rows, packs)


def transcripts_dataset(
    packs: list[LoadedPack], split: Split | None = "dev", transcripts_dir: Path | None = None
) -> Dataset:
    """The project's human-graded transcripts of every given pack, one split (dev by default).

    Rows whose question is not (yet) in a pack are skipped rather than failing the whole run:
    transcripts and rubrics are authored separately.
    """
    rows: list[LabelledAnswer] = []
    for pack in packs:
        try:
            found = read_transcripts(pack.company, split, transcripts_dir)
        except TranscriptError as exc:
            raise DatasetError(str(exc)) from None
        rows.extend(row for row in found if row.question_id in pack.questions)
    label = f"transcripts ({split or 'all'} split)"
    return _resolve(label, rows, packs)
