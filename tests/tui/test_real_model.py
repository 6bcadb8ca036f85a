"""The app end to end with the real all-MiniLM-L6-v2 model: loads in the worker, grades, reports."""

from __future__ import annotations

import pytest

from grader.engine.encoder import PACKAGED_MODEL_NAME
from grader.store import Store
from grader.tui.report_view import ReportView
from grader.tui.screens import InterviewScreen, ReportScreen
from grader.tui.widgets import FeedbackView, GraderStatus
from tests.tui.factory import SIZE, make_app, real_packs_dir
from tests.tui.helpers import answer, next_question, settle, skip

pytestmark = pytest.mark.real_model

# Reworded from the rubric (not copied), so the points are earned through the model's similarity.
ANSWER = (
    "The model memorizes the noise in its training data instead of the signal. "
    "Its training error is low while its test error is high."
)


async def test_practice_interview_with_the_real_model(store: Store) -> None:
    app = make_app(store, mode="practice", encoder_factory=None, packs=real_packs_dir())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert screen.query_one(GraderStatus).state == "ready", app.grader_reason
        await answer(pilot, "I like turtles.")
        off_topic = screen.query(FeedbackView).last().result
        assert off_topic is not None and off_topic.grade == 0 and not off_topic.covered
        await pilot.press("ctrl+r")
        await pilot.pause()
        screen.query_one("#answer").clear()  # type: ignore[attr-defined]
        await answer(pilot, ANSWER)
        result = screen.query(FeedbackView).last().result
        assert result is not None and result.model_id == PACKAGED_MODEL_NAME
        covered = {p.point_id for p in result.covered}
        assert covered == {"fits-noise", "gap"}, [(p.point_id, p.similarity) for p in result.points]
        assert result.grade > off_topic.grade
        await next_question(pilot)
        await skip(pilot)
        await answer(pilot, "I would retrieve candidates and then rank them, trained on click labels.")
        await next_question(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert app.screen.query_one(ReportView).report.overall_grade is not None
    stored = store.latest_grades(app.session_id or "")
    assert len(stored) == 3
    assert all(grade.model_id == PACKAGED_MODEL_NAME for grade in stored.values())
