"""The Store's record of an interview's timers, so a resumed session continues its clocks.

A mixin of ``Store`` (like ``code_runs``): it uses the Store's connection, lock and transactions.
Saved every few seconds and on quit; a busy database just means the next save tries again.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading

    from grader.store.sqlite import Database

CLOCK_BUSY_TIMEOUT_MS = 200


@dataclass(frozen=True)
class SessionClock:
    """Seconds spent so far on the current round and on the current question (attempt)."""

    round_id: str
    round_elapsed: float
    question_key: str
    question_elapsed: float
    saved_at: str


class ClockStore:
    """Methods ``Store`` gains for the interview's timers."""

    db: Database
    _lock: threading.RLock

    def _atomic(self, *, busy_timeout_ms: int | None = None, deadline_seconds: float | None = None
                ) -> AbstractContextManager[Database]:  # provided by Store
        raise NotImplementedError

    def save_clock(self, session_id: str, *, round_id: str, round_elapsed: float, question_key: str,
                   question_elapsed: float) -> None:
        """Replace the session's timers; ``StoreWriteError`` when the database stays busy (try later)."""
        row = {"session_id": session_id, "round_id": round_id, "round_elapsed": max(0.0, round_elapsed),
               "question_key": question_key, "question_elapsed": max(0.0, question_elapsed),
               "saved_at": datetime.now(UTC).isoformat(timespec="microseconds")}
        with self._atomic(busy_timeout_ms=CLOCK_BUSY_TIMEOUT_MS, deadline_seconds=0.5) as db:
            db["session_clocks"].upsert(row, pk="session_id")

    def clock(self, session_id: str) -> SessionClock | None:
        """The timers saved last for this session, or None (never saved, or a session from before them)."""
        with self._lock:
            rows = list(self.db["session_clocks"].rows_where("session_id = ?", [session_id]))
        if not rows:
            return None
        row = rows[0]
        try:
            return SessionClock(round_id=str(row["round_id"]), round_elapsed=float(row["round_elapsed"]),
                                question_key=str(row["question_key"]),
                                question_elapsed=float(row["question_elapsed"]), saved_at=str(row["saved_at"]))
        except (TypeError, ValueError):
            return None  # a damaged row: the timers start at 0:00, as before they were saved
