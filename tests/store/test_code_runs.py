"""Coding-round storage: runs, submissions and editor drafts, and the migration that adds them."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from grader.store import Store
from grader.store.migrations import migrations

REPORT = {"passed": 2, "total": 3, "all_passed": False, "runtime_ms": 1.5, "summary": "2/3 tests passed",
          "outcomes": [{"number": 3, "status": "failed", "message": "expected [1], got [2]"}]}


def test_runs_are_stored_with_code_results_and_timings(tmp_path):
    with Store(tmp_path / "db.sqlite") as store:
        session = store.create_session("pinterest", "interview", ["coding"])
        first = store.record_code_run(session, question_id="q.coding.a", round_id="coding", kind="examples",
                                      code="def f(): ...", report=REPORT)
        store.record_code_run(session, question_id="q.coding.b", round_id="coding", kind="submit",
                              code="def g(): ...", report={**REPORT, "passed": 3, "all_passed": True})
        runs = store.code_runs(session)
        assert runs[0].id == first
        assert [(r.question_id, r.kind, r.passed, r.total, r.all_passed) for r in runs] == [
            ("q.coding.a", "examples", 2, 3, False), ("q.coding.b", "submit", 3, 3, True)]
        assert runs[0].code == "def f(): ..." and runs[0].report["outcomes"][0]["message"] == "expected [1], got [2]"
        assert runs[0].runtime_ms == 1.5
        assert [r.question_id for r in store.code_runs(session, "q.coding.b")] == ["q.coding.b"]


def test_the_newest_draft_replaces_the_last_and_survives_reopening(tmp_path):
    path = tmp_path / "db.sqlite"
    with Store(path) as store:
        session = store.create_session("pinterest", "interview", ["coding"])
        assert store.code_draft(session, "q.coding.a") is None
        store.save_code_draft(session, "q.coding.a", "def f():\n    return 1\n")
        store.save_code_draft(session, "q.coding.a", "def f():\n    return 2\n")
    with Store(path) as reopened:
        assert reopened.code_draft(session, "q.coding.a") == "def f():\n    return 2\n"


def test_a_database_from_before_coding_rounds_migrates_and_keeps_its_sessions(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Database(sqlite3.connect(str(path)))
    migrations.apply(old, stop_before="m002_code_runs")
    assert "code_runs" not in old.table_names()
    old["sessions"].insert({"id": "20260101-000000-abcd", "company": "pinterest", "mode": "interview",
                            "round_ids": "[]", "started_at": "2026-01-01T00:00:00", "status": "finished"})
    old.conn.commit()
    old.close()
    with Store(path) as store:
        assert "m002_code_runs" in store.applied_migrations()
        assert store.session("20260101-000000-abcd").company == "pinterest"
        assert store.code_runs("20260101-000000-abcd") == []


def test_an_unknown_run_kind_is_refused(tmp_path):
    with Store(tmp_path / "db.sqlite") as store:
        session = store.create_session("pinterest", "interview", ["coding"])
        with pytest.raises(ValueError, match="kind must be one of examples, submit"):
            store.record_code_run(session, question_id="q", round_id=None, kind="debug", code="", report=REPORT)
