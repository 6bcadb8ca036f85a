"""``mockint review``: a past session's transcript and report, read-only; the history list opens one."""

from __future__ import annotations

from textual.widgets import DataTable, TabbedContent, TextArea

from grader.store import Store
from grader.tui.report_view import ReportView
from grader.tui.screens import HistoryScreen, ReviewScreen
from grader.tui.widgets import FeedbackView
from tests.tui.factory import SIZE, make_app
from tests.tui.helpers import answer, begin, settle, skip, transcript_texts

GOOD_L2 = "It adds a penalty on the squared weights to the loss. It shrinks the weights toward zero."


async def _finished_session(store: Store) -> str:
    app = make_app(store, round_ids=["screen"])
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await skip(pilot)  # overfitting
        await answer(pilot, GOOD_L2)
        await settle(pilot)
    assert app.session_id is not None and store.session(app.session_id).finished
    return app.session_id


async def test_review_shows_transcript_grades_and_report_and_changes_nothing(store: Store) -> None:
    session_id = await _finished_session(store)
    turns_before = store.turns(session_id)
    app = make_app(store, purpose="review", session_id=session_id)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert not list(screen.query(TextArea)), "review is read-only: no answer box"
        assert ("candidate", GOOD_L2) in transcript_texts(app)
        assert ("candidate", "*(skipped)*") in transcript_texts(app)
        feedback = screen.query_one(FeedbackView)
        assert feedback.result is not None and feedback.result.question_id == "acme.screen.l2"
        await pilot.press("2")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "report"
        report = screen.query_one(ReportView).report
        assert [q.status for q in report.questions] == ["skipped", "graded"]
        await pilot.press("a", "b", "ctrl+s", "ctrl+n", "y")
        await pilot.pause()
    assert store.turns(session_id) == turns_before


async def test_history_lists_sessions_newest_first_and_enter_opens_review(store: Store) -> None:
    session_id = await _finished_session(store)
    newer = store.create_session("acme", "practice", ["design"])
    app = make_app(store, purpose="history")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one(DataTable)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == [newer, session_id]
        assert table.get_row_at(1)[1:3] == ["finished", "1 of 2"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.session_id == session_id
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
