"""The schema of mockint.db, as an append-only list of named migrations.

Each migration runs once, inside a transaction, and is recorded in ``_sqlite_migrations`` (the
sqlite-utils ``Migrations`` helper). Never edit or reorder a migration that has shipped: add a new
one at the end, because users' databases already recorded the old ones as applied.
"""

from __future__ import annotations

from grader.store.sqlite import Database, Migrations

MIGRATION_SET = "mockint"

migrations = Migrations(MIGRATION_SET)


def known_migrations() -> list[str]:
    """Names of every migration this version of mockint knows, in order (newer databases have more)."""
    return [migration.name for migration in migrations._migrations]


@migrations()
def m001_initial(db: Database) -> None:
    db["sessions"].create(
        {
            "id": str,
            "company": str,
            "mode": str,
            "round_ids": str,  # JSON list, in the order the rounds are asked
            "started_at": str,
            "finished_at": str,
            "status": str,
        },
        pk="id",
        not_null={"company", "mode", "round_ids", "started_at", "status"},
    )
    db["turns"].create(
        {
            "id": int,
            "session_id": str,
            "seq": int,
            "role": str,
            "kind": str,
            "text": str,
            "question_id": str,
            "round_id": str,
            "point_id": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "seq", "role", "kind", "text", "created_at"},
    )
    # One sequence per session: the unique index is what makes concurrent writers fail loudly
    # rather than interleave two turns at the same position.
    db["turns"].create_index(["session_id", "seq"], unique=True)
    db["grades"].create(
        {
            "id": int,
            "turn_id": int,
            "question_id": str,
            "grade": int,
            "score": int,
            "model_id": str,
            "rubric_version": str,
            "calibration_id": str,
            "graded_at": str,
            "result_json": str,  # the full GradeResult.to_dict(), so nothing the engine said is lost
        },
        pk="id",
        foreign_keys=[("turn_id", "turns", "id")],
        not_null={"turn_id", "question_id", "grade", "score", "graded_at", "result_json"},
    )
    db["grades"].create_index(["turn_id"])
    db["grade_points"].create(
        {
            "id": int,
            "grade_id": int,
            "point_id": str,
            "title": str,
            "weight": float,
            "covered": int,
            "probability": float,
            "confidence": float,
            "similarity": float,
            "evidence": str,
        },
        pk="id",
        foreign_keys=[("grade_id", "grades", "id")],
        not_null={"grade_id", "point_id", "covered"},
    )
    db["grade_points"].create_index(["grade_id"])
    db["grade_points"].create_index(["point_id"])


@migrations()
def m002_code_runs(db: Database) -> None:
    # Coding rounds: every run of the examples and every submission, with the code as it was run,
    # and the editor's newest draft per question (saved as the candidate types, so a kill loses nothing).
    db["code_runs"].create(
        {
            "id": int,
            "session_id": str,
            "question_id": str,
            "round_id": str,
            "kind": str,  # "examples" or "submit"
            "code": str,
            "passed": int,
            "total": int,
            "all_passed": int,
            "runtime_ms": float,
            "summary": str,
            "report_json": str,  # the full RunReport.to_dict(): per-test verdicts, messages, timings
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "question_id", "kind", "code", "passed", "total", "all_passed", "report_json",
                  "created_at"},
    )
    db["code_runs"].create_index(["session_id", "question_id"])
    db["code_drafts"].create(
        {"session_id": str, "question_id": str, "code": str, "saved_at": str},
        pk=("session_id", "question_id"),
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"code", "saved_at"},
    )


@migrations()
def m003_session_clocks(db: Database) -> None:
    # The interview's two timers, so `mockint resume` continues them instead of starting at 0:00.
    db["session_clocks"].create(
        {
            "session_id": str,
            "round_id": str,
            "round_elapsed": float,
            "question_key": str,  # question id and attempt: the question timer it belongs to
            "question_elapsed": float,
            "saved_at": str,
        },
        pk="session_id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"round_id", "round_elapsed", "question_key", "question_elapsed", "saved_at"},
    )
