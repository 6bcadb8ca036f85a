"""The one class that reads and writes mockint.db.

Every write commits before the method returns, so a candidate's answer is on disk before grading
starts and survives a SIGKILL. The connection is shared between the TUI's thread and its workers,
so calls are serialised by a lock rather than relying on SQLite's per-thread check.

Writes take the lock up front and wait for another process (``grader.store.database``); one that
still fails raises ``StoreWriteError`` and changes nothing. A row whose JSON is damaged is skipped
and described in ``Store.damaged`` rather than breaking every listing.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.engine.result import GradeResult
from grader.paths import user_dir
from grader.store.clocks import ClockStore
from grader.store.code_runs import CodeRunStore
from grader.store.database import (
    DRAFT_BUSY_TIMEOUT_MS,
    backup_to,
    close_cleanly,
    create_running_marker,
    open_database,
    pid_alive,
    write_transaction,
)
from grader.store.migrations import migrations
from grader.store.records import (
    KINDS,
    ROLES,
    STATUS_ACTIVE,
    STATUS_FINISHED,
    PointHistoryRow,
    SessionRecord,
    TurnRecord,
)
from grader.store.recovery import append_recovery, clear_pending, recover_pending, recovery_path, write_pending
from grader.store.sqlite import Database

DB_FILENAME = "mockint.db"
MODES = ("interview", "practice")


class SessionNotFoundError(LookupError):
    """No session has the given id (or the prefix matches none, or several)."""


def default_db_path() -> Path:
    """``mockint.db`` in the user directory (``$MOCKINT_HOME`` when set), resolved at call time.

    The folder is not created here: opening the store checks it first.
    """
    return user_dir(create=False) / DB_FILENAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _session_id() -> str:
    # Sortable by time first; the random tail keeps two sessions started in the same second apart.
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


class Store(CodeRunStore, ClockStore):
    """Sessions, turns and grades in one SQLite file; migrates when opened. Coding runs: ``CodeRunStore``."""

    def __init__(self, path: Path | str | None = None) -> None:
        """Open (creating and migrating if needed); ``StoreOpenError`` names the problem and the fix."""
        self.path = Path(path) if path is not None else default_db_path()
        # check_same_thread=False (in connect): grading workers record grades from their own
        # threads; the lock below serialises every call, which SQLite needs on a shared connection.
        conn, self.notices = open_database(self.path)
        """Things the user should know about the opening, e.g. an answer recovered from a killed run."""
        self.db = Database(conn)
        self._lock = threading.RLock()
        self._closed = False
        self.damaged: list[str] = []
        """Rows skipped because their stored JSON is unreadable, one line each."""
        self._marker = create_running_marker(self.path)
        self.notices += recover_pending(self.path, self._has_turn, pid_alive)

    @property
    def recovery_path(self) -> Path:
        """The plain-text file beside the database that holds words a write could not save."""
        return recovery_path(self.path)

    def save_to_recovery(self, *, session_id: str, what: str, text: str, reason: str) -> Path:
        """Append words that could not be saved to the recovery file; its path. Raises OSError."""
        return append_recovery(self.path, session_id=session_id, what=what, text=text, reason=reason)

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole database (WAL included) at ``target``, via SQLite's backup API."""
        with self._lock:
            backup_to(self.db.conn, target)

    def close(self) -> None:
        """Checkpoint the WAL into mockint.db and close; closing twice is harmless."""
        with self._lock:
            if not self._closed:
                self._closed = True
                close_cleanly(self.db.conn, self._marker)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _atomic(self, *, busy_timeout_ms: int | None = None, deadline_seconds: float | None = None
                ) -> Iterator[Database]:
        """One write transaction holding the lock from the start (``BEGIN IMMEDIATE``), retried while busy."""
        options: dict[str, Any] = {}
        if busy_timeout_ms is not None:
            options["busy_timeout_ms"] = busy_timeout_ms
        if deadline_seconds is not None:
            options["deadline_seconds"] = deadline_seconds
        with self._lock, write_transaction(self.db.conn, self.path, **options):
            yield self.db

    def _has_turn(self, record: dict[str, Any]) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM turns WHERE session_id = ? AND kind = ? AND text = ? LIMIT 1",
            [record.get("session_id"), record.get("kind"), record.get("text")],
        ).fetchone()
        return row is not None

    def _note_damage(self, message: str) -> None:
        if message not in self.damaged:
            self.damaged.append(message)

    # -- migrations -------------------------------------------------------------------------------

    def applied_migrations(self) -> list[str]:
        with self._lock:
            return [migration.name for migration in migrations.applied(self.db)]

    # -- sessions ---------------------------------------------------------------------------------

    def create_session(self, company: str, mode: str, round_ids: list[str]) -> str:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        with self._atomic() as db:
            while True:
                session_id = _session_id()
                if db["sessions"].count_where("id = ?", [session_id]) == 0:
                    break
            db["sessions"].insert(
                {
                    "id": session_id,
                    "company": company,
                    "mode": mode,
                    "round_ids": json.dumps(list(round_ids)),
                    "started_at": _now(),
                    "finished_at": None,
                    "status": STATUS_ACTIVE,
                }
            )
        return session_id

    def session(self, session_id: str) -> SessionRecord:
        """The session with this id, or the only one whose id starts with it."""
        with self._lock:
            rows = list(self.db["sessions"].rows_where("id = ?", [session_id]))
            if not rows and session_id:
                rows = list(self.db["sessions"].rows_where("id LIKE ? ESCAPE '\\'",
                                                           [_like_prefix(session_id)], limit=2))
        if len(rows) != 1:
            why = "matches several sessions" if rows else "no such session"
            raise SessionNotFoundError(f"{why}: {session_id!r}")
        return self._session_or_damaged(rows[0])

    def sessions(self, limit: int | None = None, *, company: str | None = None) -> list[SessionRecord]:
        """Sessions, newest first."""
        where, params = ("company = ?", [company]) if company else (None, [])
        with self._lock:
            rows = self.db["sessions"].rows_where(where, params, order_by="started_at desc, id desc",
                                                  limit=limit)
            return [self._session_or_damaged(row) for row in rows]

    def _session_or_damaged(self, row: dict[str, Any]) -> SessionRecord:
        """The session; with unreadable round ids it is kept (as "every round") and reported."""
        try:
            return _session_record(row)
        except (ValueError, TypeError):
            self._note_damage(f"session {row.get('id')}: its round list is unreadable; shown with every round")
            return _session_record({**row, "round_ids": "[]"})

    def finish_session(self, session_id: str) -> None:
        self.session(session_id)  # raises for an unknown id instead of updating nothing
        with self._atomic() as db:
            db["sessions"].update(session_id, {"finished_at": _now(), "status": STATUS_FINISHED})

    def latest_unfinished(self) -> SessionRecord | None:
        with self._lock:
            rows = list(self.db["sessions"].rows_where("status != ?", [STATUS_FINISHED],
                                                       order_by="started_at desc, id desc", limit=1))
        return self._session_or_damaged(rows[0]) if rows else None

    # -- turns ------------------------------------------------------------------------------------

    def add_turn(
        self,
        session_id: str,
        *,
        role: str,
        kind: str,
        text: str,
        question_id: str | None = None,
        round_id: str | None = None,
        point_id: str | None = None,
    ) -> int:
        """Append a turn and commit it before returning; the turn id."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        # A candidate's words are first written beside the database, so a process killed while
        # waiting for the lock leaves them for the next run to recover (grader.store.recovery).
        pending = write_pending(self.path, {"session_id": session_id, "kind": kind, "text": text,
                                            "question_id": question_id}) if role == "candidate" else None
        with self._atomic() as db:
            if db["sessions"].count_where("id = ?", [session_id]) == 0:
                clear_pending(pending)
                raise SessionNotFoundError(f"no such session: {session_id!r}")
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE session_id = ?",
                             [session_id]).fetchone()[0]
            table = db["turns"].insert(
                {
                    "session_id": session_id,
                    "seq": seq,
                    "role": role,
                    "kind": kind,
                    "text": text,
                    "question_id": question_id,
                    "round_id": round_id,
                    "point_id": point_id,
                    "created_at": _now(),
                }
            )
            turn_id = table.last_pk
        clear_pending(pending)
        return int(turn_id)

    def save_draft(self, session_id: str, text: str, *, question_id: str | None = None,
                   round_id: str | None = None, point_id: str | None = None) -> None:
        """Keep the unsubmitted answer as a ``note`` turn, replacing the draft saved just before it.

        Called about once a second while the candidate types, so it waits only briefly for a busy
        database: ``StoreWriteError`` means "not this time"; the next change tries again.
        """
        with self._atomic(busy_timeout_ms=DRAFT_BUSY_TIMEOUT_MS, deadline_seconds=0.5) as db:
            last = db.execute("SELECT id, role, kind, question_id FROM turns WHERE session_id = ? "
                              "ORDER BY seq DESC LIMIT 1", [session_id]).fetchone()
            if last is not None and last[1:] == ("candidate", "note", question_id):
                db["turns"].update(last[0], {"text": text, "created_at": _now()})
                return
        self.add_turn(session_id, role="candidate", kind="note", text=text, question_id=question_id,
                      round_id=round_id, point_id=point_id)

    def turns(self, session_id: str) -> list[TurnRecord]:
        with self._lock:
            rows = self.db["turns"].rows_where("session_id = ?", [session_id], order_by="seq")
            return [TurnRecord(**row) for row in rows]

    def turn(self, turn_id: int) -> TurnRecord:
        with self._lock:
            rows = list(self.db["turns"].rows_where("id = ?", [turn_id]))
        if not rows:
            raise LookupError(f"no such turn: {turn_id}")
        return TurnRecord(**rows[0])

    def answers(self, session_id: str | None = None) -> list[TurnRecord]:
        """Every candidate answer (main and probe), oldest first."""
        return self._answer_turns(session_id, ungraded_only=False)

    def ungraded_answers(self, session_id: str | None = None) -> list[TurnRecord]:
        """Answers stored without any grade (grading was unavailable or the process died first)."""
        return self._answer_turns(session_id, ungraded_only=True)

    def _answer_turns(self, session_id: str | None, *, ungraded_only: bool) -> list[TurnRecord]:
        sql = "SELECT turns.* FROM turns WHERE role = 'candidate' AND kind = 'answer'"
        params: list[Any] = []
        if session_id is not None:
            sql += " AND session_id = ?"
            params.append(session_id)
        if ungraded_only:
            sql += " AND NOT EXISTS (SELECT 1 FROM grades WHERE grades.turn_id = turns.id)"
        sql += " ORDER BY turns.id"  # the order they were said, across sessions
        with self._lock:
            return [TurnRecord(**row) for row in self.db.query(sql, params)]

    # -- grades -----------------------------------------------------------------------------------

    def record_grade(self, turn_id: int, result: GradeResult) -> int:
        """Store a grade for an answer turn; earlier grades of the turn are kept. The grade id."""
        with self._atomic() as db:
            turn_rows = list(db["turns"].rows_where("id = ?", [turn_id]))
            if not turn_rows:
                raise LookupError(f"no such turn: {turn_id}")
            if turn_rows[0]["kind"] != "answer":
                raise ValueError(f"turn {turn_id} is a {turn_rows[0]['kind']}, not an answer")
            grade_id = db["grades"].insert(
                {
                    "turn_id": turn_id,
                    "question_id": result.question_id,
                    "grade": result.grade,
                    "score": result.score,
                    "model_id": result.model_id,
                    "rubric_version": result.rubric_version,
                    "calibration_id": result.calibration_id,
                    "graded_at": _now(),
                    "result_json": json.dumps(result.to_dict()),
                }
            ).last_pk
            db["grade_points"].insert_all(
                {
                    "grade_id": grade_id,
                    "point_id": point.point_id,
                    "title": point.title,
                    "weight": point.weight,
                    "covered": int(point.covered),
                    "probability": point.probability,
                    "confidence": point.confidence,
                    "similarity": point.similarity,
                    "evidence": point.evidence,
                }
                for point in result.points
            )
        return int(grade_id)

    def _grade_or_none(self, grade_id: Any, turn_id: Any, result_json: Any) -> GradeResult | None:
        try:
            return GradeResult.from_dict(json.loads(result_json))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self._note_damage(f"grade {grade_id} of turn {turn_id}: result_json is unreadable "
                              f"({type(exc).__name__}); the answer shows as ungraded (`mockint regrade` grades it)")
            return None

    def latest_grade(self, turn_id: int) -> GradeResult | None:
        with self._lock:
            rows = list(self.db["grades"].rows_where("turn_id = ?", [turn_id], order_by="id desc", limit=1))
        return self._grade_or_none(rows[0]["id"], turn_id, rows[0]["result_json"]) if rows else None

    def grade_history(self, turn_id: int) -> list[GradeResult]:
        """Every readable grade the answer received, oldest first (regrades append)."""
        with self._lock:
            rows = self.db["grades"].rows_where("turn_id = ?", [turn_id], order_by="id")
            grades = [self._grade_or_none(row["id"], turn_id, row["result_json"]) for row in rows]
        return [grade for grade in grades if grade is not None]

    def latest_grades(self, session_id: str) -> dict[int, GradeResult]:
        """Turn id to its newest grade, for every graded answer of the session."""
        sql = """
            SELECT grades.id, grades.turn_id, grades.result_json FROM grades
            JOIN turns ON turns.id = grades.turn_id
            WHERE turns.session_id = ?
              AND grades.id = (SELECT MAX(g.id) FROM grades g WHERE g.turn_id = grades.turn_id)
        """
        with self._lock:
            grades = {
                row["turn_id"]: self._grade_or_none(row["id"], row["turn_id"], row["result_json"])
                for row in self.db.query(sql, [session_id])
            }
        return {turn_id: grade for turn_id, grade in grades.items() if grade is not None}

    def point_history(self, company: str) -> list[PointHistoryRow]:
        """Per point of every graded main answer (newest grade) of the company's sessions, oldest first."""
        sql = """
            SELECT sessions.id AS session_id, sessions.started_at, turns.id AS turn_id, turns.seq,
                   turns.round_id, grades.question_id, grades.grade,
                   grade_points.point_id, grade_points.title, grade_points.weight, grade_points.covered
            FROM sessions
            JOIN turns ON turns.session_id = sessions.id
            JOIN grades ON grades.turn_id = turns.id
            JOIN grade_points ON grade_points.grade_id = grades.id
            WHERE sessions.company = ?
              AND turns.kind = 'answer' AND turns.point_id IS NULL
              AND grades.id = (SELECT MAX(g.id) FROM grades g WHERE g.turn_id = turns.id)
            ORDER BY sessions.started_at, sessions.id, turns.seq, grade_points.id
        """
        with self._lock:
            return [
                PointHistoryRow(**{**row, "covered": bool(row["covered"])})
                for row in self.db.query(sql, [company])
            ]


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _session_record(row: dict[str, Any]) -> SessionRecord:
    round_ids = json.loads(row["round_ids"])
    if not isinstance(round_ids, list):
        raise TypeError("round_ids is not a list")
    return SessionRecord(
        id=row["id"],
        company=row["company"],
        mode=row["mode"],
        round_ids=[str(rid) for rid in round_ids],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
    )

