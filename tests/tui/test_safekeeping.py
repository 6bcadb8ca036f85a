"""The TUI never loses the candidate's words: a write the database refuses keeps the answer in the
box and in the recovery file, drafts are saved a second after typing pauses, oversized answers are
refused, and stored escape sequences never reach the terminal."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from textual.widgets import TextArea

from grader.store import Store, StoreWriteError, database
from grader.tui.safekeeping import UnsavedWords, exit_message
from grader.tui.screens import ConfirmQuit, InterviewScreen, ReviewScreen
from grader.tui.widgets import TurnView
from tests.tui.factory import SIZE, make_app
from tests.tui.helpers import begin, settle, type_text

ANSWER = "The model memorizes noise in the training data."


class LockHolder:
    """Another process's exclusive lock on the database, held until released."""

    def __init__(self, path) -> None:  # type: ignore[no-untyped-def]
        self.conn = sqlite3.connect(str(path), timeout=0, check_same_thread=False)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "WRITE_DEADLINE_SECONDS", 0.3)


async def test_a_refused_answer_stays_in_the_box_goes_to_recovery_and_is_saved_on_retry(store: Store,
                                                                                         short_waits) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        store.db.execute("PRAGMA busy_timeout = 100")
        lock = LockHolder(store.path)
        await type_text(pilot, ANSWER)
        await pilot.press("ctrl+s")
        await pilot.pause()
        # Not saved: the words are still in the box, the screen says why and what to do, a copy is on disk.
        assert screen.query_one("#answer", TextArea).text == ANSWER
        assert screen.phase == "answering"
        assert app.unsaved is not None and app.unsaved.error.reason == "locked"
        messages = " ".join(str(n.message) for n in app._notifications)
        assert "NOT saved" in messages and "close the other mockint" in messages
        assert ANSWER in store.recovery_path.read_text()
        assert "NOT saved" in exit_message(app.session_id or "", False, app.unsaved)
        assert "saved. Continue" not in exit_message(app.session_id or "", False, app.unsaved)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuit)
        assert "NOT saved" in app.screen.question() and "Everything is saved" not in app.screen.question()
        await pilot.press("n")
        await pilot.pause()

        lock.release()
        store.db.execute(f"PRAGMA busy_timeout = {database.BUSY_TIMEOUT_MS}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.unsaved is None
        answers = [t.text for t in store.turns(app.session_id or "") if t.kind == "answer"]
        assert answers == [ANSWER]
        assert screen.step is not None and screen.step.kind == "probe"  # the interview went on


async def test_an_answer_submitted_under_a_brief_lock_waits_and_is_saved(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        lock = LockHolder(store.path)
        threading.Timer(1.0, lock.release).start()
        await type_text(pilot, ANSWER)
        started = time.monotonic()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert time.monotonic() - started >= 0.9
        assert app.unsaved is None
        assert [t.text for t in store.turns(app.session_id or "") if t.kind == "answer"] == [ANSWER]


async def test_the_draft_is_saved_about_a_second_after_typing_stops(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await type_text(pilot, "half an answer")
        assert [t for t in store.turns(app.session_id or "") if t.kind == "note"] == []
        await pilot.pause(1.5)
        await type_text(pilot, " and a bit more")
        await pilot.pause(1.5)
        notes = [t.text for t in store.turns(app.session_id or "") if t.kind == "note"]
        assert notes == ["half an answer and a bit more"]  # one draft, updated in place


async def test_a_stop_signal_saves_the_draft_and_exits(store: Store, monkeypatch) -> None:
    import signal

    monkeypatch.setattr("grader.tui.app._end_process", lambda code: None)  # this process must live on
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await type_text(pilot, "typed just before the terminal closed")
        app._stop_on_signal(signal.SIGHUP)
        await pilot.pause()
    assert app.stopped_by == "SIGHUP"
    notes = [t.text for t in store.turns(app.session_id or "") if t.kind == "note"]
    assert notes == ["typed just before the terminal closed"]


async def test_an_answer_over_the_limit_is_refused_and_kept(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        box = app.screen.query_one("#answer", TextArea)
        box.text = "word " * 50_000
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert box.text.startswith("word word")
        assert [t for t in store.turns(app.session_id or "") if t.kind == "answer"] == []
        assert any("limit" in str(n.message) for n in app._notifications)


async def test_the_review_screen_shows_no_escape_sequences_from_a_stored_answer(store: Store) -> None:
    from grader.interview import Interview
    from tests.tui.factory import acme_pack

    session_id = store.create_session("acme", "interview", ["screen"])
    step = Interview(acme_pack(), mode="interview").current
    store.add_turn(session_id, **step.prompt_turn())
    store.add_turn(session_id, **step.answer_turn("Noise \x1b]0;pwned\x07memorised\x1b[2J here.\x9b31m"))
    app = make_app(store, session_id=session_id, purpose="review")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        texts = [view.text for view in app.screen.query(TurnView)]
    assert any("Noise memorised here." in text for text in texts)
    assert not any(ch in text for text in texts for ch in "\x1b\x07\x9b")


def test_the_exit_message_says_saved_only_when_everything_was(tmp_path) -> None:
    error = StoreWriteError(tmp_path / "mockint.db", "full", "database or disk is full")
    unsaved = UnsavedWords(what="answer to q", error=error, recovery_file=tmp_path / "mockint-recovery.txt")
    assert "saved. Continue" in exit_message("s1", False, None)
    lost = exit_message("s1", False, unsaved)
    assert "NOT saved" in lost and "free some disk space" in lost and "mockint-recovery.txt" in lost
    assert "saved." not in lost.replace("NOT saved", "")


async def test_a_process_that_does_not_exit_after_a_stop_signal_ends_itself(store: Store, monkeypatch) -> None:
    import signal
    import time

    from grader.tui import app as app_module

    ended: list[int] = []
    monkeypatch.setattr(app_module, "STOP_GRACE_SECONDS", 0.05)
    monkeypatch.setattr(app_module, "_end_process", ended.append)
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await type_text(pilot, "typed before the terminal closed")
        app._stop_on_signal(signal.SIGHUP)
        await pilot.pause()
    # This test process is still alive after the grace period, as a hung shutdown would be.
    deadline = time.monotonic() + 5
    while not ended and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ended == [128 + signal.SIGHUP]
    notes = [t.text for t in store.turns(app.session_id or "") if t.kind == "note"]
    assert notes == ["typed before the terminal closed"]  # saved before the process could be ended
