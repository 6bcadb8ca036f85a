"""Storage faults, one test per class, on real SQLite files: locked, full, read-only, damaged,
foreign, newer, raced, killed. Each asserts what the user is told and that no data was lost or
overwritten."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from grader.store import SchemaTooNewError, Store, StoreOpenError, StoreWriteError, database, recovery
from grader.store.database import connect
from grader.store.migrations import known_migrations
from grader.store.recovery import RECOVERY_FILENAME
from tests.interview.sample_pack import QUESTIONS, make_result

QUESTION = QUESTIONS[0]


def _answer(store: Store, session_id: str, text: str = "It memorises noise.") -> int:
    return store.add_turn(session_id, role="candidate", kind="answer", text=text, question_id=QUESTION.id,
                          round_id="screen")


def _database_with_answer(tmp_path: Path, text: str = "It memorises noise.") -> tuple[Path, str]:
    """A closed database at tmp_path/mockint.db holding one session with one answer."""
    path = tmp_path / "mockint.db"
    with Store(path) as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        _answer(store, session_id, text)
    return path, session_id


def _hold_lock(path: Path, seconds: float, started: threading.Event) -> None:
    conn = sqlite3.connect(str(path), timeout=0)
    conn.execute("BEGIN EXCLUSIVE")
    started.set()
    time.sleep(seconds)
    conn.rollback()
    conn.close()


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "mockint.db") as store:
        yield store


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


# -- every connection: WAL and a busy timeout ----------------------------------------------------


def test_every_connection_waits_for_locks_and_the_database_is_in_wal_mode(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == database.BUSY_TIMEOUT_MS
    assert connect(store.path).execute("PRAGMA busy_timeout").fetchone()[0] == database.BUSY_TIMEOUT_MS


# -- writes that hold a user's words: wait, retry, then fail cleanly ---------------------------------


def test_a_write_waits_for_another_process_lock_and_then_commits(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    started = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(store.path, 1.5, started))
    holder.start()
    started.wait()
    begun = time.monotonic()
    turn_id = _answer(store, session_id)
    waited = time.monotonic() - begun
    holder.join()
    assert waited >= 1.0  # it waited for the lock rather than failing at once
    assert store.turn(turn_id).text == "It memorises noise."


def test_a_write_locked_out_past_the_deadline_fails_cleanly_and_changes_nothing(store, monkeypatch):
    session_id = store.create_session("acme", "interview", ["screen"])
    monkeypatch.setattr(database, "WRITE_DEADLINE_SECONDS", 0.6)
    store.db.execute("PRAGMA busy_timeout = 200")
    started = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(store.path, 2.0, started))
    holder.start()
    started.wait()
    with pytest.raises(StoreWriteError) as caught:
        _answer(store, session_id)
    holder.join()
    assert caught.value.reason == "locked"
    assert "close the other mockint" in str(caught.value) and "\n" not in str(caught.value)
    assert store.turns(session_id) == []
    assert not store.db.conn.in_transaction  # the failed write left no transaction open
    _answer(store, session_id)  # and the store works again once the lock is gone
    assert len(store.turns(session_id)) == 1


def test_a_full_disk_fails_the_write_with_the_fix_and_keeps_earlier_rows(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    _answer(store, session_id, "first answer")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own SQLITE_FULL, as on a full disk
    with pytest.raises(StoreWriteError) as caught:
        _answer(store, session_id, "x" * 200_000)
    assert caught.value.reason == "full"
    assert "free some disk space" in str(caught.value)
    assert [t.text for t in store.turns(session_id)] == ["first answer"]


def test_a_read_only_database_fails_the_write_with_the_fix(tmp_path):
    path = tmp_path / "mockint.db"
    with Store(path) as store:
        session_id = store.create_session("acme", "interview", ["screen"])
    store = Store(path)
    store.db.conn.close()
    from sqlite_utils import Database

    store.db = Database(connect(path, read_only=True))  # the fault: the file can only be read
    with pytest.raises(StoreWriteError) as caught:
        _answer(store, session_id)
    assert caught.value.reason == "read-only"
    assert "writable" in str(caught.value)


# -- opening: every reason the file cannot be used, one line, file untouched ------------------------------


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path):
    path = tmp_path / "mockint.db"
    path.write_bytes(b"my notes, not a database\n" * 10)
    before = _bytes(path)
    with pytest.raises(StoreOpenError, match="not a mockint database"):
        Store(path)
    assert _bytes(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mockint.db"]


def test_a_truncated_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "mockint.db"
    with Store(path) as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        for index in range(200):
            _answer(store, session_id, f"answer number {index} " * 20)
    path.write_bytes(_bytes(path)[: len(_bytes(path)) // 2])
    before = _bytes(path)
    with pytest.raises(StoreOpenError, match="truncated"):
        Store(path)
    assert _bytes(path) == before


def test_a_short_main_file_with_a_wal_beside_it_is_left_to_sqlite(tmp_path):
    """A checkpoint cut short by a full disk leaves the header promising pages the WAL still holds."""
    path, _ = _database_with_answer(tmp_path, "kept in the WAL")
    data = path.read_bytes()
    pages = int.from_bytes(data[28:32], "big")
    promised_more = data[:28] + (pages + 5).to_bytes(4, "big") + data[32:]
    path.write_bytes(promised_more)
    with pytest.raises(StoreOpenError, match="truncated"):
        database.check_location(path)
    Path(f"{path}-wal").write_bytes(b"\0" * 32)  # a WAL is there: SQLite, not the file size, decides
    database.check_location(path)


def test_another_programs_sqlite_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "mockint.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE recipes (name TEXT)")
    other.commit()
    other.close()
    before = _bytes(path)
    with pytest.raises(StoreOpenError, match="did not create"):
        Store(path)
    assert _bytes(path) == before


def test_a_folder_where_the_database_belongs_is_refused(tmp_path):
    (tmp_path / "mockint.db").mkdir()
    with pytest.raises(StoreOpenError, match="is a folder"):
        Store(tmp_path / "mockint.db")


def test_mockint_home_that_is_a_file_is_refused_and_untouched(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.write_text("a file")
    monkeypatch.setenv("MOCKINT_HOME", str(home))
    with pytest.raises(StoreOpenError, match="is a file, not a folder"):
        Store()
    assert home.read_text() == "a file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions; the fault table uses a ro mount")
def test_a_read_only_home_is_refused(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    monkeypatch.setenv("MOCKINT_HOME", str(home))
    try:
        with pytest.raises(StoreOpenError, match="read-only"):
            Store()
    finally:
        home.chmod(0o700)


def test_a_database_locked_at_start_fails_after_waiting(tmp_path, monkeypatch):
    path = tmp_path / "mockint.db"
    Store(path).close()
    # A rollback-journal lock blocks readers too: the case of another tool holding the file.
    conn = sqlite3.connect(str(path))
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 300)
    monkeypatch.setattr(database, "WRITE_DEADLINE_SECONDS", 0.5)
    try:
        with pytest.raises(StoreOpenError, match="locked by another process"):
            Store(path)
    finally:
        conn.rollback()
        conn.close()


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "mockint.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = _bytes(path)
    with pytest.raises(SchemaTooNewError, match=r"newer mockint .*schema version 99"):
        Store(path)
    assert _bytes(path) == before


def test_an_unknown_applied_migration_is_refused(tmp_path):
    path = tmp_path / "mockint.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('mockint', 'm002_from_the_future', 'now')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError, match="m002_from_the_future"):
        Store(path)


def test_the_schema_version_is_recorded(store):
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == database.SCHEMA_VERSION >= 1
    assert store.db.execute("PRAGMA application_id").fetchone()[0] == database.APPLICATION_ID


def _open_and_write(path: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()
    try:
        with Store(Path(path)) as store:
            session_id = store.create_session("acme", "interview", ["screen"])
            for index in range(20):  # two interviews submitting at the same moment, many times over
                _answer(store, session_id, f"answer {index}")
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_first_runs_racing_to_create_and_write_the_database_all_succeed(tmp_path):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(6)
    results = context.Queue()
    path = tmp_path / "mockint.db"
    processes = [context.Process(target=_open_and_write, args=(str(path), barrier, results)) for _ in range(6)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    outcomes = [results.get(timeout=5) for _ in processes]
    assert outcomes == ["ok"] * 6
    with Store(path) as store:
        assert store.applied_migrations() == known_migrations()
        assert len(store.sessions()) == 6
        assert all(len(store.answers(s.id)) == 20 for s in store.sessions())


def _damage_a_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for offset in range(2 * page_size, len(data), page_size):
        data[offset : offset + 40] = b"\xff" * 40  # trash every b-tree page header after the schema
    path.write_bytes(bytes(data))


def test_after_an_unclean_shutdown_the_database_is_checked_and_damage_reported(tmp_path):
    path, _ = _database_with_answer(tmp_path)
    _damage_a_page(path)
    (tmp_path / ".mockint.db.999999999-0.running").touch()  # left by a process that died
    before = _bytes(path)
    with pytest.raises(StoreOpenError, match="damaged"):
        Store(path)
    assert _bytes(path) == before


def test_after_an_unclean_shutdown_an_intact_database_opens_with_a_notice(tmp_path):
    path = tmp_path / "mockint.db"
    Store(path).close()
    marker = tmp_path / ".mockint.db.999999999-0.running"
    marker.touch()
    with Store(path) as store:
        assert any("did not close cleanly" in notice for notice in store.notices)
    assert not marker.exists()


def test_an_unclean_shutdown_is_seen_even_when_the_new_process_has_the_dead_one_s_pid(tmp_path):
    path = tmp_path / "mockint.db"
    Store(path).close()
    namesake = tmp_path / f".mockint.db.{os.getpid()}-0badc0de-0.running"
    namesake.touch()
    with Store(path) as store:
        assert any("did not close cleanly" in notice for notice in store.notices)
        assert not namesake.exists()
        with Store(path) as second:  # this process's own marker is not a dead process's
            assert not any("did not close cleanly" in notice for notice in second.notices)


# -- clean exit, backup, recovery -----------------------------------------------------------------------


def test_a_clean_close_checkpoints_so_the_main_file_alone_has_every_answer(tmp_path):
    path, _ = _database_with_answer(tmp_path, "only in the WAL until checkpoint")
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)  # mockint.db alone, no -wal
    rows = sqlite3.connect(copy).execute("SELECT text FROM turns").fetchall()
    assert rows == [("only in the WAL until checkpoint",)]
    assert not list(tmp_path.glob(".mockint.db.*.running"))


def test_backup_copies_answers_still_in_the_wal_while_the_store_is_open(store, tmp_path):
    session_id = store.create_session("acme", "interview", ["screen"])
    _answer(store, session_id, "newest answer")
    assert Path(f"{store.path}-wal").stat().st_size > 0
    target = tmp_path / "backup.db"
    store.backup(target)
    rows = sqlite3.connect(target).execute("SELECT text FROM turns").fetchall()
    assert rows == [("newest answer",)]


def test_an_answer_of_a_killed_process_that_never_reached_the_database_is_recovered(tmp_path):
    path = tmp_path / "mockint.db"
    Store(path).close()
    pending = tmp_path / ".mockint.db.999999999-0.pending"  # pid 999999999 is not running
    pending.write_text('{"session_id": "s1", "kind": "answer", "text": "words typed before kill -9", '
                       '"question_id": "q1"}')
    with Store(path) as store:
        assert any("was put in" in notice for notice in store.notices)
    assert "words typed before kill -9" in (tmp_path / RECOVERY_FILENAME).read_text()
    assert not pending.exists()


def test_a_pending_answer_that_was_committed_is_not_duplicated_into_recovery(tmp_path):
    path, session_id = _database_with_answer(tmp_path, "saved just before the kill")
    pending = tmp_path / ".mockint.db.999999999-0.pending"
    pending.write_text(f'{{"session_id": "{session_id}", "kind": "answer", "text": "saved just before the kill"}}')
    Store(path).close()
    assert not (tmp_path / RECOVERY_FILENAME).exists()
    assert not pending.exists()


def test_a_successful_answer_leaves_no_pending_file(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    _answer(store, session_id)
    assert not list(store.path.parent.glob("*.pending"))


def test_a_pending_file_appears_only_once_it_holds_the_whole_answer(tmp_path, monkeypatch):
    # A kill -9 between creating the file and writing it once left an empty .pending file, which
    # the next run threw away with the answer (seen in CI). The file is published by a rename.
    path = tmp_path / "mockint.db"
    seen_while_writing = []
    real_fsync = os.fsync

    def fsync_and_look(fd):
        seen_while_writing.append(sorted(p.name for p in tmp_path.glob(".mockint.db.*")))
        real_fsync(fd)

    monkeypatch.setattr(recovery.os, "fsync", fsync_and_look)
    marker = recovery.write_pending(path, {"session_id": "s1", "kind": "answer", "text": "whole answer"})
    assert marker is not None and marker.name.endswith(".pending")
    assert seen_while_writing and not any(name.endswith(".pending") for name in seen_while_writing[0])
    assert json.loads(marker.read_text())["text"] == "whole answer"
    assert [p.name for p in tmp_path.glob(".mockint.db.*")] == [marker.name]


def test_a_killed_writer_s_partial_file_is_recovered_when_whole_and_dropped_when_torn(tmp_path):
    path = tmp_path / "mockint.db"
    Store(path).close()
    whole = tmp_path / f".mockint.db.999999999-0.pending{recovery.PARTIAL_SUFFIX}"
    whole.write_text('{"session_id": "s1", "kind": "answer", "text": "synced but not renamed"}')
    torn = tmp_path / f".mockint.db.999999999-1.pending{recovery.PARTIAL_SUFFIX}"
    torn.write_text('{"session_id": "s1", "kind": "ans')
    with Store(path) as store:
        assert sum("was put in" in notice for notice in store.notices) == 1
    assert "synced but not renamed" in (tmp_path / RECOVERY_FILENAME).read_text()
    assert not whole.exists() and not torn.exists()


def test_a_killed_process_s_answer_is_recovered_by_a_new_process_with_the_same_pid(tmp_path):
    # In a container mockint may get the same pid on every start: the killed run's file is not
    # this run's, and this run's first answer must not overwrite it.
    path = tmp_path / "mockint.db"
    Store(path).close()
    old_tagged = tmp_path / f".mockint.db.{os.getpid()}-0badc0de-0.pending"
    old_untagged = tmp_path / f".mockint.db.{os.getpid()}-0.pending"  # written before files had tags
    old_tagged.write_text('{"session_id": "s1", "kind": "answer", "text": "answer of the killed run"}')
    old_untagged.write_text('{"session_id": "s1", "kind": "answer", "text": "answer of an older version"}')
    mine = recovery.write_pending(path, {"session_id": "s2", "kind": "answer", "text": "being saved now"})
    with Store(path) as store:
        assert sum("was put in" in notice for notice in store.notices) == 2
        session_id = store.create_session("acme", "interview", ["screen"])
        _answer(store, session_id, "the new run's first answer")
    saved = (tmp_path / RECOVERY_FILENAME).read_text()
    assert "answer of the killed run" in saved and "answer of an older version" in saved
    assert "being saved now" not in saved and mine is not None and mine.exists()  # this process's own


def test_pending_file_names_mockint_does_not_write_are_left_alone(tmp_path):
    path = tmp_path / "mockint.db"
    strangers = [".mockint.db.\u00b2-0.pending", ".mockint.db.99999999999999999999-0.pending.partial",
                 ".mockint.db.0-0.pending", ".mockint.db.x.db.999999999-0.pending"]
    for name in strangers:
        (tmp_path / name).write_text('{"session_id": "s1", "kind": "answer", "text": "not mine"}')
    (tmp_path / ".mockint.db.\u00b2-0.running").touch()  # "²".isdigit() holds; int("²") raised on open
    with Store(path) as store:
        assert not any("was put in" in notice for notice in store.notices)
    assert all((tmp_path / name).exists() for name in strangers)
    assert not (tmp_path / RECOVERY_FILENAME).exists()


def test_any_text_survives_the_pending_file(tmp_path):
    text = "lone surrogate \ud800, accents \u00e9, emoji \U0001f600"
    marker = recovery.write_pending(tmp_path / "mockint.db", {"session_id": "s1", "kind": "answer", "text": text})
    assert marker is not None and json.loads(marker.read_text(encoding="utf-8"))["text"] == text


def test_drafts_replace_each_other_until_an_answer_follows(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    where = {"question_id": QUESTION.id, "round_id": "screen"}
    store.save_draft(session_id, "first words", **where)
    store.save_draft(session_id, "first words and more", **where)
    assert [(t.kind, t.text) for t in store.turns(session_id)] == [("note", "first words and more")]
    _answer(store, session_id)
    store.save_draft(session_id, "next draft", **where)
    assert [t.kind for t in store.turns(session_id)] == ["note", "answer", "note"]


# -- damaged rows: skipped and reported, never fatal -------------------------------------------------------


def test_a_malformed_json_row_is_skipped_and_reported(store):
    session_id = store.create_session("acme", "interview", ["screen"])
    good = _answer(store, session_id, "good")
    bad = _answer(store, session_id, "bad")
    store.record_grade(good, make_result(QUESTION, set()))
    store.record_grade(bad, make_result(QUESTION, set()))
    store.db.execute("UPDATE grades SET result_json = '{broken' WHERE turn_id = ?", [bad])
    store.db.execute("UPDATE sessions SET round_ids = 'not json' WHERE id = ?", [session_id])
    store.db.conn.commit()
    assert set(store.latest_grades(session_id)) == {good}
    assert store.sessions()[0].round_ids == []
    assert any(f"turn {bad}" in line for line in store.damaged)
    assert any("round list" in line for line in store.damaged)
