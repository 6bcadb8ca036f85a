import re
import sqlite3
import threading

import pytest

from grader.store import STATUS_FINISHED, SessionNotFoundError, Store, default_db_path
from grader.store.migrations import MIGRATION_SET, known_migrations, migrations
from tests.interview.sample_pack import QUESTIONS, make_result

OVERFITTING = QUESTIONS[0]


@pytest.fixture
def store():
    with Store() as store:
        yield store


def _answer(store, session_id, text="It memorises noise.", point_id=None):
    return store.add_turn(session_id, role="candidate", kind="answer", text=text,
                          question_id=OVERFITTING.id, round_id="screen", point_id=point_id)


def test_empty_home_gets_database_with_schema_in_wal_mode(tmp_path):
    store = Store()
    assert store.path == default_db_path() == tmp_path / "home" / "mockint.db"
    assert store.path.exists()
    assert set(store.db.table_names()) >= {"sessions", "turns", "grades", "grade_points", "_sqlite_migrations"}
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.applied_migrations() == known_migrations()
    assert store.applied_migrations()[0] == "m001_initial" and "m002_code_runs" in store.applied_migrations()


def test_applying_migrations_twice_is_a_no_op(tmp_path):
    path = tmp_path / "db.sqlite"
    with Store(path) as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        schema = store.db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    with Store(path) as again:
        assert migrations.pending(again.db) == []
        migrations.apply(again.db)
        assert again.db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
        rows = list(again.db["_sqlite_migrations"].rows_where("migration_set = ?", [MIGRATION_SET]))
        assert [row["name"] for row in rows] == known_migrations()
        assert again.session(session_id).company == "acme"


def test_session_ids_are_sortable_and_resolvable_by_prefix(store):
    first = store.create_session("acme", "interview", ["screen", "design"])
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", first)
    record = store.session(first)
    assert record.round_ids == ["screen", "design"]
    assert record.status == "in-progress" and record.finished_at is None
    assert store.session(first[:-2]).id == first
    with pytest.raises(SessionNotFoundError, match="no such session"):
        store.session("nope")
    store.create_session("acme", "practice", ["screen"])
    with pytest.raises(SessionNotFoundError, match="several"):
        store.session(first[:8])


def test_create_session_rejects_unknown_mode(store):
    with pytest.raises(ValueError, match="mode"):
        store.create_session("acme", "exam", [])


def test_turns_are_numbered_in_order_and_committed_at_once(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    ids = [
        store.add_turn(session_id, role="system", kind="briefing", text="Welcome"),
        store.add_turn(session_id, role="interviewer", kind="question", text=OVERFITTING.prompt,
                       question_id=OVERFITTING.id, round_id="screen"),
        _answer(store, session_id),
    ]
    # A second connection sees every turn: nothing waits for a clean exit to be written.
    raw = sqlite3.connect(store.path)
    assert [row[0] for row in raw.execute("SELECT id FROM turns ORDER BY seq")] == ids
    turns = store.turns(session_id)
    assert [t.seq for t in turns] == [1, 2, 3]
    assert [t.kind for t in turns] == ["briefing", "question", "answer"]
    assert turns[2].question_id == OVERFITTING.id and turns[2].round_id == "screen"
    assert turns[0].created_at <= turns[1].created_at <= turns[2].created_at


def test_add_turn_validates_role_kind_and_session(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    with pytest.raises(ValueError, match="role"):
        store.add_turn(session_id, role="robot", kind="answer", text="x")
    with pytest.raises(ValueError, match="kind"):
        store.add_turn(session_id, role="candidate", kind="shout", text="x")
    with pytest.raises(SessionNotFoundError):
        store.add_turn("missing", role="candidate", kind="answer", text="x")


def test_grades_round_trip_and_regrades_keep_earlier_ones(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    turn_id = _answer(store, session_id)
    assert store.latest_grade(turn_id) is None
    first = make_result(OVERFITTING, {"gap"})
    second = make_result(OVERFITTING, {"gap", "noise"}, misconception_on="noise")
    store.record_grade(turn_id, first)
    store.record_grade(turn_id, second)
    assert store.latest_grade(turn_id) == second
    assert store.grade_history(turn_id) == [first, second]
    assert store.latest_grades(session_id) == {turn_id: second}
    rows = list(store.db["grades"].rows_where("turn_id = ?", [turn_id], order_by="id"))
    assert [(r["grade"], r["model_id"], r["rubric_version"]) for r in rows] == [
        (first.grade, "fake-hashing", OVERFITTING.version), (second.grade, "fake-hashing", OVERFITTING.version)]
    points = list(store.db["grade_points"].rows_where("grade_id = ?", [rows[1]["id"]], order_by="id"))
    assert [(p["point_id"], p["covered"]) for p in points] == [("gap", 1), ("noise", 1), ("capacity", 0)]
    assert points[0]["evidence"] == "I said training error is low but test error is high."


def test_record_grade_only_for_answers(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    question = store.add_turn(session_id, role="interviewer", kind="question", text="?", question_id=OVERFITTING.id)
    with pytest.raises(ValueError, match="not an answer"):
        store.record_grade(question, make_result(OVERFITTING, set()))
    with pytest.raises(LookupError):
        store.record_grade(9999, make_result(OVERFITTING, set()))


def test_ungraded_answers_lists_answers_without_any_grade(store):
    one = store.create_session("acme", "interview", ["screen"])
    two = store.create_session("acme", "interview", ["screen"])
    graded = _answer(store, one, "graded")
    pending = _answer(store, one, "pending")
    store.add_turn(one, role="candidate", kind="skip", text="(skipped)", question_id=OVERFITTING.id)
    other = _answer(store, two, "other")
    store.record_grade(graded, make_result(OVERFITTING, {"gap"}))
    assert [t.id for t in store.ungraded_answers(one)] == [pending]
    assert [t.id for t in store.ungraded_answers()] == [pending, other]
    assert [t.id for t in store.answers(one)] == [graded, pending]


def test_finish_and_latest_unfinished(store):
    assert store.latest_unfinished() is None
    old = store.create_session("acme", "interview", ["screen"])
    new = store.create_session("acme", "practice", ["screen"])
    assert [s.id for s in store.sessions()] == [new, old]
    assert [s.id for s in store.sessions(limit=1)] == [new]
    assert store.latest_unfinished().id == new
    store.finish_session(new)
    finished = store.session(new)
    assert finished.status == STATUS_FINISHED and finished.finished and finished.finished_at
    assert store.latest_unfinished().id == old
    with pytest.raises(SessionNotFoundError):
        store.finish_session("missing")


def test_point_history_uses_main_answers_and_newest_grades(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    store.create_session("other", "interview", ["screen"])
    main = _answer(store, session_id, "main")
    probe = _answer(store, session_id, "probe", point_id="noise")
    store.record_grade(main, make_result(OVERFITTING, set()))
    store.record_grade(main, make_result(OVERFITTING, {"gap"}))
    store.record_grade(probe, make_result(OVERFITTING, {"noise"}))
    rows = store.point_history("acme")
    assert [(r.turn_id, r.point_id, r.covered) for r in rows] == [
        (main, "gap", True), (main, "noise", False), (main, "capacity", False)]
    assert rows[0].grade == make_result(OVERFITTING, {"gap"}).grade and rows[0].round_id == "screen"
    assert store.point_history("other") == []


def test_grades_can_be_recorded_from_a_worker_thread(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    turn_id = _answer(store, session_id)
    errors = []

    def work():
        try:
            store.record_grade(turn_id, make_result(OVERFITTING, {"gap"}))
        except Exception as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []
    assert store.latest_grade(turn_id).covered[0].point_id == "gap"


def test_session_clock_round_trip_and_upgrade_from_before_clocks(tmp_path):
    import sqlite3

    from sqlite_utils import Database

    path = tmp_path / "old.sqlite"
    old = Database(sqlite3.connect(str(path)))
    migrations.apply(old, stop_before="m003_session_clocks")
    old["sessions"].insert({"id": "20260101-000000-abcd", "company": "acme", "mode": "interview",
                            "round_ids": "[]", "started_at": "2026-01-01T00:00:00", "status": "in-progress"})
    old.conn.commit()
    old.close()
    with Store(path) as store:
        assert store.applied_migrations()[-1] == "m003_session_clocks"
        assert store.clock("20260101-000000-abcd") is None  # a session from before: timers start at 0:00
        store.save_clock("20260101-000000-abcd", round_id="screen", round_elapsed=95.5,
                         question_key="acme.screen.overfitting#1", question_elapsed=30.0)
        store.save_clock("20260101-000000-abcd", round_id="screen", round_elapsed=100.0,
                         question_key="acme.screen.overfitting#1", question_elapsed=34.5)
    with Store(path) as reopened:
        clock = reopened.clock("20260101-000000-abcd")
    assert clock is not None
    assert (clock.round_id, clock.round_elapsed, clock.question_elapsed) == ("screen", 100.0, 34.5)
