"""Plain records the store hands out, so callers never see rows, cursors or SQL."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ROLES = ("interviewer", "candidate", "system")
KINDS = ("briefing", "question", "probe", "answer", "skip", "note")

STATUS_ACTIVE = "in-progress"
STATUS_FINISHED = "finished"


@dataclass(frozen=True)
class SessionRecord:
    id: str
    company: str
    mode: str
    round_ids: list[str]
    started_at: str
    """ISO 8601 in UTC, with microseconds."""
    finished_at: str | None
    status: str
    """``in-progress`` until ``finish_session``; a killed session stays ``in-progress`` and is resumable."""

    @property
    def finished(self) -> bool:
        return self.status == STATUS_FINISHED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TurnRecord:
    id: int
    session_id: str
    seq: int
    """1-based position of the turn in its session: the order turns were said in."""
    role: str
    kind: str
    text: str
    question_id: str | None
    round_id: str | None
    point_id: str | None
    """For a probe and the answer to it: the rubric point the probe presses on."""
    created_at: str

    @property
    def is_prompt(self) -> bool:
        return self.role == "interviewer" and self.kind in ("question", "probe")

    @property
    def is_response(self) -> bool:
        return self.role == "candidate" and self.kind in ("answer", "skip")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PointHistoryRow:
    """One rubric point of one graded main answer, for progress across sessions."""

    session_id: str
    started_at: str
    turn_id: int
    seq: int
    round_id: str | None
    question_id: str
    grade: int
    point_id: str
    title: str
    weight: float
    covered: bool
