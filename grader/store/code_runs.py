"""The Store's coding-round tables: runs and submissions of candidate code, and editor drafts.

A mixin of ``Store`` (kept in its own module so the coding round's storage reads in one place);
it uses the Store's connection, lock and transactions, and hands out plain records.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import threading

    from grader.store.sqlite import Database

RUN_KINDS = ("examples", "submit")


@dataclass(frozen=True)
class CodeRunRecord:
    id: int
    session_id: str
    question_id: str
    round_id: str | None
    kind: str
    """``examples`` (the public examples, run while writing) or ``submit`` (every test)."""
    code: str
    passed: int
    total: int
    all_passed: bool
    runtime_ms: float | None
    summary: str
    report: dict[str, Any]
    """``grader.coding.runner.RunReport.to_dict()``: per-test verdicts, messages and timings."""
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CodeRunStore:
    """Methods ``Store`` gains for coding rounds; every write commits before returning."""

    db: Database
    _lock: threading.RLock

    def _atomic(self, *, busy_timeout_ms: int | None = None, deadline_seconds: float | None = None
                ) -> AbstractContextManager[Database]:  # provided by Store
        raise NotImplementedError

    def record_code_run(self, session_id: str, *, question_id: str, round_id: str | None, kind: str, code: str,
                        report: dict[str, Any]) -> int:
        """Store one run or submission (``report`` is ``RunReport.to_dict()``); the run id."""
        if kind not in RUN_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RUN_KINDS)}, not {kind!r}")
        with self._atomic() as db:
            run_id = db["code_runs"].insert({
                "session_id": session_id,
                "question_id": question_id,
                "round_id": round_id,
                "kind": kind,
                "code": code,
                "passed": int(report["passed"]),
                "total": int(report["total"]),
                "all_passed": int(bool(report["all_passed"])),
                "runtime_ms": report.get("runtime_ms"),
                "summary": str(report.get("summary", "")),
                "report_json": json.dumps(report),
                "created_at": _now(),
            }).last_pk
        return int(run_id)

    def code_runs(self, session_id: str, question_id: str | None = None) -> list[CodeRunRecord]:
        """The session's runs and submissions (of one question, if given), oldest first."""
        where, params = "session_id = ?", [session_id]
        if question_id is not None:
            where, params = where + " AND question_id = ?", [*params, question_id]
        with self._lock:
            return [_record(row) for row in self.db["code_runs"].rows_where(where, params, order_by="id")]

    def save_code_draft(self, session_id: str, question_id: str, code: str) -> None:
        """Keep the editor's content for a question (the newest replaces the last).

        Called shortly after each change, so like the answer box's draft it waits only briefly for a
        busy database: ``StoreWriteError`` means "not this time"; the next change tries again.
        """
        from grader.store.database import DRAFT_BUSY_TIMEOUT_MS

        with self._atomic(busy_timeout_ms=DRAFT_BUSY_TIMEOUT_MS, deadline_seconds=0.5) as db:
            db["code_drafts"].upsert(
                {"session_id": session_id, "question_id": question_id, "code": code, "saved_at": _now()},
                pk=("session_id", "question_id"),
            )

    def code_draft(self, session_id: str, question_id: str) -> str | None:
        with self._lock:
            rows = list(self.db["code_drafts"].rows_where("session_id = ? AND question_id = ?",
                                                          [session_id, question_id]))
        return rows[0]["code"] if rows else None


def _record(row: dict[str, Any]) -> CodeRunRecord:
    return CodeRunRecord(
        id=row["id"], session_id=row["session_id"], question_id=row["question_id"], round_id=row["round_id"],
        kind=row["kind"], code=row["code"], passed=row["passed"], total=row["total"],
        all_passed=bool(row["all_passed"]), runtime_ms=row["runtime_ms"], summary=row["summary"] or "",
        report=json.loads(row["report_json"]), created_at=row["created_at"],
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
