"""Pilot tests: whole interviews in both modes, with the fake encoder and the tiny acme pack."""

from __future__ import annotations

from textual.widgets import TextArea

from grader.store import Store
from grader.tui.report_view import ReportView
from grader.tui.screens import BriefingScreen, ConfirmQuit, InterviewScreen, ReportScreen
from grader.tui.widgets import FeedbackView, GraderStatus, Timers
from tests.tui.factory import SIZE, FrozenClock, GatedEncoderFactory, broken_encoder, make_app
from tests.tui.helpers import (
    answer,
    begin,
    next_question,
    plain,
    quit_confirmed,
    settle,
    skip,
    transcript_texts,
    type_text,
)

FULL_OVERFITTING = (
    "The model memorizes noise in the training data. Training error is low but test error is high. "
    "The model has too much capacity for the data."
)
NOISE_ONLY = "The model memorizes noise in the training data."
L2_FULL = "It adds a penalty on the squared weights to the loss. It shrinks the weights toward zero."
RANKING_FULL = (
    "Retrieve candidates first, then rank them with a heavier model. Labels come from clicks and "
    "engagement logs. Evaluate offline with AUC and online with an A/B test."
)


def _kinds(store: Store, session_id: str) -> list[tuple[str, str]]:
    return [(t.role, t.kind) for t in store.turns(session_id)]


async def test_interview_mode_probes_missed_points_then_reports(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, BriefingScreen)
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert transcript_texts(app)[-1] == ("interviewer", "What is overfitting?")

        # Covers only "fits noise": the heaviest missed point (gap, weight 2) is probed first.
        await answer(pilot, NOISE_ONLY)
        assert screen.step is not None and screen.step.kind == "probe"
        assert screen.step.probe_point_id == "gap"
        assert transcript_texts(app)[-1] == ("interviewer", "How do training and validation error compare?")
        await answer(pilot, "Training error is low but test error is high.")
        # Gap recovered under probing; the next missed point is capacity, the second and last probe.
        assert screen.step is not None and screen.step.probe_point_id == "capacity"
        await answer(pilot, "I am not sure.")
        assert screen.step is not None and screen.step.question.id == "acme.screen.l2"
        # Grades stay hidden in interview mode.
        assert not list(screen.query(FeedbackView))

        await answer(pilot, L2_FULL)
        assert screen.step is not None and screen.step.question.id == "acme.design.ranking"
        await answer(pilot, RANKING_FULL)
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        report = app.screen.query_one(ReportView).report
        assert report.overall_grade is not None
        assert report.hire_bar == 3.0

    session = store.session(app.session_id or "")
    assert session.finished
    kinds = _kinds(store, session.id)
    assert kinds.count(("interviewer", "probe")) == 2
    assert kinds.count(("candidate", "answer")) == 5
    # Every answer was graded and stored.
    assert store.ungraded_answers(session.id) == []


async def test_practice_mode_feedback_retry_and_continue(store: Store) -> None:
    app = make_app(store, mode="practice")
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        await answer(pilot, NOISE_ONLY + " Overfitting is when the model is too simple.")
        assert screen.phase == "feedback"
        feedback = screen.query(FeedbackView).last()
        assert feedback.result is not None
        covered = {p.point_id for p in feedback.result.covered}
        assert covered == {"fits-noise"}
        assert [m.misconception_id for m in feedback.result.misconceptions] == ["too-simple"]
        text = " ".join(plain(feedback.feedback).split())
        assert "Grade 1/4 · weak" in text or "Grade 0/4" in text
        assert "✓ Fits noise “The model memorizes noise in the training data.”" in text
        assert "✗ Generalization gap Name the symptom" in text
        assert "⚠ Overfitting means the model is too simple." in text and "Correction: A model" in text
        assert "Model answer Overfitting is when the model memorizes noise" in text
        # No probes in practice mode; the answer box gives way to the feedback.
        assert not screen.query_one("#answer", TextArea).display
        active = {b.binding.action for b in screen.active_bindings.values()}
        assert {"continue", "retry"} <= active and "submit" not in active

        await pilot.press("ctrl+r")
        await pilot.pause()
        box = screen.query_one("#answer", TextArea)
        assert screen.phase == "answering" and screen.step is not None and screen.step.attempt == 2
        assert box.text.startswith(NOISE_ONLY), "the previous attempt is back in the box to improve"
        box.clear()
        await answer(pilot, FULL_OVERFITTING)
        better = screen.query(FeedbackView).last().result
        assert better is not None and better.grade > (feedback.result.grade)

        await pilot.press("ctrl+s")  # a second Ctrl+S does not leave the feedback
        await pilot.pause()
        assert screen.phase == "feedback" and screen.step is not None and screen.step.attempt == 2
        await next_question(pilot)
        assert screen.step is not None and screen.step.question.id == "acme.screen.l2"
        await skip(pilot)
        assert screen.step is not None and screen.step.question.id == "acme.design.ranking"
        await answer(pilot, RANKING_FULL)
        await next_question(pilot)
        assert isinstance(app.screen, ReportScreen)
    kinds = _kinds(store, app.session_id or "")
    assert kinds.count(("interviewer", "question")) == 4  # overfitting twice (retry), l2, ranking
    assert ("candidate", "skip") in kinds
    assert ("interviewer", "probe") not in kinds


async def test_enter_is_a_newline_and_ctrl_s_submits(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await pilot.press("a", "enter", "b")
        box = app.screen.query_one("#answer", TextArea)
        assert box.text == "a\nb"
        assert _kinds(store, app.session_id or "")[-1] == ("interviewer", "question")
        await pilot.press("ctrl+s")
        await settle(pilot)
    answers = store.answers(app.session_id)
    assert [a.text for a in answers] == ["a\nb"]


async def test_empty_answer_is_not_submitted(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await pilot.press("space", "ctrl+s")
        await pilot.pause()
        assert store.answers(app.session_id) == []
        assert isinstance(app.screen, InterviewScreen) and app.screen.phase == "answering"


async def test_answer_is_stored_before_grading_and_typing_goes_on_while_the_model_loads(store: Store) -> None:
    gated = GatedEncoderFactory()
    app = make_app(store, encoder_factory=gated)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.query_one(GraderStatus).state == "loading"
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert "loading grader" in str(screen.query_one(GraderStatus).render())
        await type_text(pilot, NOISE_ONLY)
        await pilot.press("ctrl+s")
        await pilot.pause()
        # On disk, ungraded, while the model is still loading.
        stored = store.ungraded_answers(app.session_id)
        assert [t.text for t in stored] == [NOISE_ONLY]
        assert screen.phase == "waiting"
        # No typing ahead of a prompt not yet shown, and a second Ctrl+S says why nothing happens.
        await pilot.press("x", "ctrl+s")
        await pilot.pause()
        assert screen.query_one("#answer", TextArea).text == ""
        assert any("Still grading your last answer" in n.message for n in app._notifications)
        assert [t.text for t in store.answers(app.session_id)] == [NOISE_ONLY]
        gated.gate.set()
        await settle(pilot)
        assert screen.query_one(GraderStatus).state == "ready"
        assert store.ungraded_answers(app.session_id) == []
        assert screen.step is not None and screen.step.kind == "probe"


async def test_grading_unavailable_the_interview_goes_on_and_answers_stay_ungraded(store: Store) -> None:
    app = make_app(store, encoder_factory=broken_encoder, mode="practice")
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        status = screen.query_one(GraderStatus)
        assert status.state == "unavailable"
        assert "grading unavailable: test: the model package is not installed" in str(status.render())
        await answer(pilot, NOISE_ONLY)
        feedback = screen.query(FeedbackView).last()
        assert feedback.result is None, "never a made-up grade"
        assert "Not graded: the grader is unavailable" in plain(feedback.feedback)
        await next_question(pilot)
        await skip(pilot)
        await answer(pilot, RANKING_FULL)
        await next_question(pilot)
        assert isinstance(app.screen, ReportScreen)
        report = app.screen.query_one(ReportView).report
        assert report.overall_grade == 0.0 or report.hire_signal in ("no signal", "no hire")
    assert len(store.ungraded_answers(app.session_id)) == 2


async def test_interview_mode_without_grader_asks_no_probes(store: Store) -> None:
    app = make_app(store, encoder_factory=broken_encoder)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await answer(pilot, NOISE_ONLY)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert screen.step is not None and screen.step.kind == "question"
        assert screen.step.question.id == "acme.screen.l2"


async def test_quit_asks_first_and_keeps_the_draft(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await type_text(pilot, "half an answer\nsecond line")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        assert app.screen.query_one("#answer", TextArea).text == "half an answer\nsecond line"
        # Not submitted (the debounced draft save may already have kept it as a note on a slow machine).
        assert [t.kind for t in store.turns(app.session_id or "")][-1] in ("question", "note")
        assert "answer" not in [t.kind for t in store.turns(app.session_id or "")]
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None
    last = store.turns(app.session_id or "")[-1]
    assert (last.role, last.kind, last.text) == ("candidate", "note", "half an answer\nsecond line")
    assert not store.session(app.session_id or "").finished


async def test_resume_restores_transcript_step_and_draft(store: Store) -> None:
    first = make_app(store)
    async with first.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await answer(pilot, NOISE_ONLY)  # -> probe on "gap"
        await type_text(pilot, "draft about the gap")
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    turns_before = len(store.turns(first.session_id or ""))

    again = make_app(store, session_id=first.session_id)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = again.screen
        assert isinstance(screen, InterviewScreen)
        assert screen.step is not None and screen.step.kind == "probe" and screen.step.probe_point_id == "gap"
        assert transcript_texts(again) == [
            ("interviewer", "What is overfitting?"),
            ("candidate", NOISE_ONLY),
            ("interviewer", "How do training and validation error compare?"),
        ]
        assert screen.query_one("#answer", TextArea).text == "draft about the gap"
    # Resuming re-asks nothing: the probe already on record is not stored twice.
    assert len(store.turns(first.session_id or "")) == turns_before


async def test_resume_grades_an_answer_stored_before_a_crash_and_moves_on(store: Store) -> None:
    session_id = store.create_session("acme", "interview", ["screen", "design"])
    store.add_turn(session_id, role="system", kind="briefing", text="briefing")
    store.add_turn(session_id, role="interviewer", kind="question", text="What is overfitting?",
                   question_id="acme.screen.overfitting", round_id="screen")
    store.add_turn(session_id, role="candidate", kind="answer", text=FULL_OVERFITTING,
                   question_id="acme.screen.overfitting", round_id="screen")
    # ...and the process died before the grade was written.
    app = make_app(store, session_id=session_id)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        assert store.ungraded_answers(session_id) == []
        # Every point covered: no probe, straight to the next question.
        assert screen.step is not None and screen.step.question.id == "acme.screen.l2"
        assert transcript_texts(app)[-1] == ("interviewer", "How does L2 regularization work?")


async def test_timers_show_running_over_without_stopping_the_candidate(store: Store) -> None:
    clock = FrozenClock()
    app = make_app(store, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        timers = app.screen.query_one(Timers)
        timers.tick()
        assert "0:00 / 1:00" in str(timers.render())
        clock.advance(95)  # budget 60 s
        timers.tick()
        await pilot.pause()
        assert timers.has_class("-over")
        assert "+0:35 over" in str(timers.render())
        await answer(pilot, FULL_OVERFITTING)
        assert isinstance(app.screen, InterviewScreen) and app.screen.step is not None


async def test_footer_shows_every_key(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        shown = {key: b.binding.description for key, b in app.screen.active_bindings.items() if b.binding.show}
        assert shown["ctrl+s"] == "Submit answer"
        assert shown["ctrl+n"] == "Skip question"
        assert shown["ctrl+q"] == "Quit"



async def test_draft_is_autosaved_while_typing(store: Store) -> None:
    """A crash between keystrokes and Ctrl+S must not cost the draft: it is saved on a timer."""
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        await pilot.press(*"half an answer")
        screen.autosave_draft()
        screen.autosave_draft()  # unchanged text is not saved twice
        notes = [t for t in store.turns(app.session_id) if t.kind == "note"]
        assert [n.text for n in notes] == ["half an answer"]


async def test_skip_asks_first_and_n_keeps_the_question(store: Store) -> None:
    from grader.tui.dialogs import ConfirmSkip

    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        await type_text(pilot, "half a thought")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmSkip)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and screen.step is not None
        assert screen.step.question.id == "acme.screen.overfitting"
        assert screen.query_one("#answer", TextArea).text == "half a thought"
        assert ("candidate", "skip") not in _kinds(store, app.session_id or "")
        await skip(pilot)
        assert screen.step is not None and screen.step.question.id == "acme.screen.l2"
    kinds = _kinds(store, app.session_id or "")
    assert kinds.count(("candidate", "skip")) == 1
    assert ("candidate", "note") in kinds  # the draft was kept


async def test_practice_feedback_opens_at_the_grade(store: Store) -> None:
    app = make_app(store, mode="practice")
    async with app.run_test(size=(80, 24)) as pilot:
        await begin(pilot)
        await answer(pilot, NOISE_ONLY + " Overfitting is when the model is too simple.")
        await pilot.pause()
        screen = app.screen
        transcript = screen.query_one("#transcript")
        feedback = screen.query(FeedbackView).last()
        # The panel is taller than the view: it opens at its first line (the grade), not its end.
        assert feedback.outer_size.height > transcript.scrollable_content_region.height
        assert transcript.scroll_y == feedback.virtual_region.y
        assert transcript.scroll_y < transcript.max_scroll_y


async def test_resume_continues_both_timers(store: Store) -> None:
    clock = FrozenClock()
    first = make_app(store, clock=clock)
    async with first.run_test(size=SIZE) as pilot:
        await begin(pilot)
        clock.advance(40)
        await answer(pilot, NOISE_ONLY)  # -> a probe: it shares the question's timer
        clock.advance(25)
        await quit_confirmed(pilot)
    saved = store.clock(first.session_id or "")
    assert saved is not None and saved.round_id == "screen"
    assert (saved.question_elapsed, saved.round_elapsed) == (65, 65)

    # Hours later, on a clock that reads something else entirely.
    later = FrozenClock(now=90_000.0)
    again = make_app(store, session_id=first.session_id, clock=later)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timers = again.screen.query_one(Timers)
        assert timers.elapsed() == (65, 65)
        timers.tick()
        assert "1:05 / 1:00" not in str(timers.render()) and "+0:05 over" in str(timers.render())
        later.advance(10)
        await answer(pilot, "Training error is low but test error is high.")  # the next probe, same question
        assert timers.elapsed() == (75, 75)


async def test_a_new_question_after_resume_starts_its_own_timer(store: Store) -> None:
    clock = FrozenClock()
    first = make_app(store, clock=clock)
    async with first.run_test(size=SIZE) as pilot:
        await begin(pilot)
        clock.advance(30)
        await answer(pilot, FULL_OVERFITTING)  # no probe: straight to the L2 question
        clock.advance(5)
        await quit_confirmed(pilot)
    again = make_app(store, session_id=first.session_id, clock=FrozenClock(now=5.0))
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.screen.query_one(Timers).elapsed() == (5, 35)


async def test_timers_stop_while_the_grader_keeps_the_candidate_waiting(store: Store) -> None:
    gated = GatedEncoderFactory()
    clock = FrozenClock()
    app = make_app(store, encoder_factory=gated, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        clock.advance(20)
        await type_text(pilot, NOISE_ONLY)
        await pilot.press("ctrl+s")
        await pilot.pause()
        timers = app.screen.query_one(Timers)
        clock.advance(100)  # the model takes its time to load
        assert timers.elapsed() == (20, 20)
        gated.gate.set()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen) and screen.step is not None and screen.step.kind == "probe"
        clock.advance(5)
        assert timers.elapsed() == (25, 25)
