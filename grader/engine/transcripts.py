"""Human-graded answers: the data the grader is calibrated on (calibration split) and judged by (dev).

Files are ``transcripts/<company>/<question_id>.jsonl``, one graded answer per line, written and
graded by the rubric's author. ``transcripts/style-shift/<company>-tune*.jsonl`` and
``<company>-dev*.jsonl`` hold answers in many other voices, written by other people and graded blind,
one pair of files per batch of writers: the tuning parts are fitted on beside the calibration split,
the dev parts only measure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Split = Literal["calibration", "dev"]
SPLITS: tuple[Split, ...] = ("calibration", "dev")


class TranscriptError(ValueError):
    """A transcript line that cannot be used; the message names file and line."""


@dataclass(frozen=True)
class LabelledAnswer:
    id: str
    question_id: str
    answer: str
    grade: int
    category: str = "unspecified"
    split: Split = "dev"
    covers: tuple[str, ...] = ()
    misconceptions: tuple[str, ...] | None = None
    """Ids of the misconceptions the grader marked; None when the row does not say (not the same as none)."""
    note: str = ""
    source: str = field(default="", compare=False)


def default_transcripts_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "transcripts"


def read_labelled(path: Path) -> list[LabelledAnswer]:
    """Read one JSONL file of graded answers, failing with file and line on the first bad row."""
    rows: list[LabelledAnswer] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise TranscriptError(f"{path}: not valid UTF-8") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise TranscriptError(f"{where}: expected a JSON object")
        for key in ("id", "question_id", "answer", "grade"):
            if key not in data:
                raise TranscriptError(f"{where}: missing field {key!r}")
        grade = data["grade"]
        if not isinstance(grade, int) or isinstance(grade, bool) or not 0 <= grade <= 4:
            raise TranscriptError(f"{where}: field 'grade' must be an integer 0-4, got {grade!r}")
        if not isinstance(data["answer"], str):
            raise TranscriptError(f"{where}: field 'answer' must be a string")
        for key in ("covers", "misconceptions"):
            value = data.get(key)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise TranscriptError(f"{where}: field {key!r} must be a list of ids, got {value!r}")
        split = data.get("split", "dev")
        if split not in SPLITS:
            raise TranscriptError(f"{where}: field 'split' must be one of {', '.join(SPLITS)}, got {split!r}")
        rows.append(
            LabelledAnswer(
                id=str(data["id"]),
                question_id=str(data["question_id"]),
                answer=data["answer"],
                grade=grade,
                category=str(data.get("category") or "unspecified"),
                split=split,
                covers=tuple(data.get("covers") or ()),
                misconceptions=tuple(data["misconceptions"]) if data.get("misconceptions") is not None else None,
                note=str(data.get("note") or ""),
                source=where,
            )
        )
    return rows


def read_transcripts(
    company: str, split: Split | None = None, transcripts_dir: Path | None = None
) -> list[LabelledAnswer]:
    """Every graded answer of a company's transcripts, optionally one split only, in a stable order."""
    base = (transcripts_dir or default_transcripts_dir()) / company
    rows = [row for path in sorted(base.glob("*.jsonl")) for row in read_labelled(path)]
    return [row for row in rows if split is None or row.split == split]


STYLE_SHIFT_DIR = "style-shift"


def read_fitting_rows(company: str, transcripts_dir: Path | None = None) -> list[LabelledAnswer]:
    """Everything the calibration is fitted on for a company: its transcripts' calibration split and
    the tuning part of its style-shift set (answers in other voices), so the fit is not one author's style."""
    rows = read_transcripts(company, "calibration", transcripts_dir)
    style_shift = (transcripts_dir or default_transcripts_dir()) / STYLE_SHIFT_DIR
    # Each batch of other writers' answers has its own tuning file ("-tune.jsonl", "-tune-2.jsonl", ...),
    # so a batch can be measured on its own (leave-one-question-out) as well as fitted on.
    for tuning in sorted(style_shift.glob(f"{company}-tune*.jsonl")):
        rows.extend(row for row in read_labelled(tuning) if row.split == "calibration")
    return rows
