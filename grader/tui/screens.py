"""Screens: briefing, interview, report, review, history, and the quit confirmation.

Screens call the store, the interview state machine and the app's grading queue; widgets only
display what they are given.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markdown import Markdown as RichMarkdown
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    DataTable,
    Header,
    Label,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from grader.engine.loader import LoadedPack
from grader.engine.result import GradeResult
from grader.engine.rubric import Question, Round
from grader.interview.report import grade_summary
from grader.safe_text import MAX_ANSWER_BYTES, strip_control
from grader.store import SessionClock, SessionRecord, StoreError, StoreWriteError, TurnRecord
from grader.tui.dialogs import ConfirmDialog, ConfirmSkip
from grader.tui.report_view import ReportView
from grader.tui.safekeeping import DRAFT_DEBOUNCE_SECONDS, for_display, keep_words
from grader.tui.widgets import FeedbackView, FitLabel, GraderStatus, KeyFooter, Timers, Transcript

if TYPE_CHECKING:
    from grader.interview import Interview, Step
    from grader.interview.report import Report, SessionFigures
    from grader.tui.app import MockintApp

ROUND_KIND_NAMES = {
    "rapid-fire": "rapid fire",
    "design": "system design",
    "behavioral": "behavioural",
    "coding": "coding",
}


def _rounds_for(pack: LoadedPack, session: SessionRecord) -> list[Round]:
    wanted = set(session.round_ids) if session.round_ids else None
    return [r for r in pack.pack.rounds if wanted is None or r.id in wanted]


def briefing_markdown(pack: LoadedPack, session: SessionRecord) -> str:
    """What the candidate reads before the first question; stored as the session's briefing turn."""
    p = pack.pack
    level = f" ({p.level})" if p.level else ""
    lines = [f"# {p.display_name} · {p.role}{level}", ""]
    if p.description:
        lines += [p.description.strip(), ""]
    if session.mode == "practice":
        lines += [
            "**Mode: practice.** After each answer you see its grade, the points you covered (with your "
            "own sentence as evidence), the points you missed, any misconception, and a model answer. "
            "Then **Enter** moves on and **Ctrl+R** retries the question.",
            "",
        ]
    else:
        lines += [
            "**Mode: interview.** Like the real thing: after each answer the interviewer may press on "
            "what you left out with up to two follow-up questions. Grades are revealed only at the end.",
            "",
        ]
    lines += ["## Rounds", "", "| # | Round | Kind | Questions | Time |", "|---|---|---|---|---|"]
    for number, round_ in enumerate(_rounds_for(pack, session), start=1):
        kind = ROUND_KIND_NAMES.get(round_.kind, round_.kind)
        lines.append(
            f"| {number} | {round_.title} | {kind} | {len(round_.questions)} | {round_.time_budget_minutes} min |"
        )
    lines += [
        "",
        "## How it works",
        "",
        "- Type your answer in the box at the bottom: **Enter** starts a new line, **Ctrl+S** submits.",
        "- **Ctrl+N** skips a question (after asking: a skip counts as grade 0). **Ctrl+Q** quits after "
        "asking; everything you typed is kept and `mockint resume` picks up where you left off.",
        "- The timers show your time on the question and on the round. Running over is shown, not enforced.",
        "- **F1** lists every key; **Ctrl+P** jumps to an earlier question, exports the session or "
        "switches the theme.",
        f"- The hire bar for this loop is a mean grade of **{p.hire_bar:g} / 4**.",
    ]
    if any(round_.kind == "coding" for round_ in _rounds_for(pack, session)):
        lines.insert(-1, "- Coding: write the function in the editor; **F5** runs the examples, **Ctrl+S** submits "
                         "against every test, **Ctrl+T** then moves on to talking it through.")
    return "\n".join(lines)


class BriefingScreen(Screen[None]):
    """Company, role, rounds with their budgets, mode, and the keys; Enter begins."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "begin", "Begin the interview")]

    @property
    def mockint(self) -> MockintApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.mockint
        assert app.pack is not None and app.session_id is not None
        session = app.store.session(app.session_id)
        yield Header()
        with VerticalScroll(id="briefing"):
            yield Static(RichMarkdown(briefing_markdown(app.pack, session)))
        with Horizontal(id="briefing-bar"):
            yield Label("Press Enter to begin.", id="begin-hint")
            yield GraderStatus(id="grader-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        status = self.query_one(GraderStatus)
        status.reason = self.mockint.grader_reason
        status.state = self.mockint.grader_state

    def action_begin(self) -> None:
        app = self.mockint
        assert app.pack is not None and app.session_id is not None
        session = app.store.session(app.session_id)
        session_id = app.session_id
        if keep_words(app, lambda: app.store.add_turn(session_id, role="system", kind="briefing",
                                                      text=briefing_markdown(app.pack, session)),
                      words=None, what="session start") is None:
            return  # the notice says why; Enter tries again
        app.switch_screen(InterviewScreen(resuming=False))


class ConfirmQuit(ConfirmDialog):
    """Ctrl+Q asks first; the answer is True to quit."""

    YES_LABEL = "Quit (y)"
    NO_LABEL = "Keep going (n)"

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    def question(self) -> str:
        unsaved = getattr(self.app, "unsaved", None)
        if unsaved is not None:  # never claim "saved" when the database refused the last write
            copy = f"A copy is in {unsaved.recovery_file}." if unsaved.recovery_file else "No copy could be written."
            return (
                f"Quit the interview?\n\nYour {unsaved.what} was NOT saved to the database. {copy}\n"
                f"Continue later with:  mockint resume {self.session_id}"
            )
        return (
            "Quit the interview?\n\nEverything is saved, including what is in the answer box.\n"
            f"Continue later with:  mockint resume {self.session_id}"
        )


CLOCK_SAVE_SECONDS = 5.0
"""How often the timers are saved while the interview runs (a kill costs at most this much)."""
ANSWER_PLACEHOLDER = "Type your answer. Enter = new line · Ctrl+S = submit"


class InterviewScreen(Screen[None]):
    """Transcript above a multi-line answer box; the interview state machine decides what comes next.

    Phases: ``answering`` (typing), ``waiting`` (answer stored, grade needed to decide the next
    step), ``feedback`` (practice mode: feedback shown, retry or continue), ``finishing`` (waiting
    for the last grades before the report).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit answer"),
        # Practice feedback moves on with its own key: a double Ctrl+S must not skip the feedback.
        Binding("ctrl+s", "feedback_hint", show=False),
        Binding("enter", "continue", "Next question"),
        Binding("ctrl+r", "retry", "Retry question"),
        Binding("ctrl+n", "skip", "Skip question"),
    ]

    def __init__(self, *, resuming: bool) -> None:
        super().__init__()
        self.resuming = resuming
        self.phase = "answering"
        self.interview: Interview | None = None
        self.step: Step | None = None
        self.finished = False
        self._round_id: str | None = None
        self._last_answer = ""
        self._pending_step: Step | None = None
        self._can_retry = False
        self._unsaved_prompt: dict[str, Any] | None = None
        """A prompt the database did not take; written before the answer to it."""
        self._draft_timer: Timer | None = None
        self._saved_draft = ""
        self._warned_too_long = False
        self._saved_clock: SessionClock | None = None
        """On resume: the timers as saved, applied to the first step shown if it is the same one."""

    @property
    def mockint(self) -> MockintApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="topbar"):
            yield FitLabel(id="round-label")
            yield Label("", id="progress")
            yield Timers(self.mockint.clock, id="timers")
        yield Transcript(id="transcript")
        with Horizontal(id="activity-bar"):
            yield Label("", id="activity")
            yield GraderStatus(id="grader-status")
        yield TextArea(
            id="answer",
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="indent",
            placeholder=ANSWER_PLACEHOLDER,
        )
        yield KeyFooter()

    # -- set-up ---------------------------------------------------------------------------------------

    def on_mount(self) -> None:
        from grader.interview import Interview

        app = self.mockint
        self.query_one("#answer", TextArea).cursor_blink = app.cursor_blink
        self.set_interval(CLOCK_SAVE_SECONDS, self.save_clock)
        assert app.pack is not None and app.session_id is not None
        status = self.query_one(GraderStatus)
        status.reason = app.grader_reason
        status.state = app.grader_state
        session = app.store.session(app.session_id)
        self.mode = session.mode
        if not self.resuming:
            self.interview = Interview(app.pack, mode=session.mode, round_ids=session.round_ids or None)
            self.show_step(self.interview.current)
            return
        turns = app.store.turns(app.session_id)
        grades = app.store.latest_grades(app.session_id)
        app.grades.update(grades)
        self.interview = interview = Interview.resume(app.pack, session, turns, grades)
        self._saved_clock = app.store.clock(app.session_id)
        self._replay(turns, grades)
        pending = interview.pending_answer
        # Answers stored before a crash (or while grading was down) are graded now, in the background;
        # the one the interview is waiting on decides the next step once graded, exactly as it would have.
        ungraded = app.store.ungraded_answers(app.session_id)
        for turn in ungraded:
            question = app.pack.questions.get(turn.question_id or "")
            if question is not None and (pending is None or turn.id != pending.turn_id):
                app.grade_answer(_job(turn.id, question, turn.text, None))
        if ungraded:
            self.notify(f"Grading {len(ungraded)} answer(s) saved before the interruption.")
        current = interview.current
        last = interview.last_answer
        if pending is not None:
            self._present(pending.step, store=False)
            self._await_grade(pending.turn_id, pending.step, pending.text)
        elif current is None:
            self._finish()
        elif _already_asked(turns, current):
            self._present(current, store=False)
            draft = _trailing_draft(turns)
            if draft:
                answer = self.query_one("#answer", TextArea)
                answer.text = draft
                answer.move_cursor(answer.document.end)
        elif self.mode == "practice" and last is not None and last.step.kind == "question" and _ends_with_answer(turns):
            # Killed while the feedback was on screen: back to that choice, retry or continue.
            self._present(last.step, store=False)
            self._last_answer = last.text
            self._show_feedback(current)
        else:
            self.show_step(current)

    def _replay(self, turns: list[TurnRecord], grades: dict[int, GradeResult]) -> None:
        """Put the transcript so far on screen, as it was said."""
        app = self.mockint
        assert app.pack is not None
        transcript = self.query_one(Transcript)
        session = app.store.session(app.session_id or "")
        render_transcript(transcript, app.pack, turns, grades, feedback=self.mode == "practice",
                          round_ids_for=session.round_ids)

    # -- steps ----------------------------------------------------------------------------------------

    def show_step(self, step: Step | None) -> None:
        """Store the interviewer's prompt, then put it on screen."""
        self._present(step, store=True)

    def _present(self, step: Step | None, *, store: bool) -> None:
        app = self.mockint
        self.step = step
        if step is None:
            self._finish()
            return
        if store:
            prompt = step.prompt_turn()
            session_id = app.session_id or ""
            if keep_words(app, lambda: app.store.add_turn(session_id, **prompt), words=None, what="next question",
                          notify=False) is None:
                self._unsaved_prompt = prompt  # stored before the answer to it; the interview goes on
            transcript = self.query_one(Transcript)
            if step.first_in_round:
                transcript.add_round(step.round_index, step.round_total, step.round.title)
            transcript.add_turn("interviewer", step.text, caption=_prompt_caption(step), kind=step.kind)
        if app.first_question_at is None:
            app.first_question_at = _perf()
        round_number = f"Round {step.round_index}/{step.round_total}"
        self.query_one("#round-label", FitLabel).show(f"{round_number} · {step.round.title}", round_number)
        self._show_progress()
        timers = self.query_one(Timers)
        timers.release()
        # A resumed session continues the clocks it saved, for the same round and question attempt.
        saved, self._saved_clock = self._saved_clock, None
        if step.round.id != self._round_id:
            self._round_id = step.round.id
            same_round = saved is not None and saved.round_id == step.round.id
            timers.start_round(step.round.time_budget_minutes * 60, elapsed=saved.round_elapsed if same_round else 0)
        if step.kind == "question" or timers.question_started is None:
            same_question = saved is not None and saved.question_key == _question_key(step)
            timers.start_question(step.question.time_budget_seconds,
                                  elapsed=saved.question_elapsed if same_question else 0)
        if store:
            self.save_clock()
        self._set_phase("answering")
        answer = self.query_one("#answer", TextArea)
        answer.read_only = False
        answer.remove_class("-waiting")
        answer.placeholder = ANSWER_PLACEHOLDER
        answer.display = True
        answer.focus()
        if step.kind == "question" and step.question.coding is not None:
            from grader.tui.coding_screen import start_coding

            start_coding(self, step)

    def on_resize(self) -> None:
        self._show_progress()

    def _show_progress(self) -> None:
        """The counters in the top bar, abbreviated to what the width allows."""
        width = self.size.width
        timers = self.query_one(Timers)
        timers.layout_name = "full" if width >= COMPACT_WIDTH else "compact" if width >= NARROW_WIDTH else "question"
        timers.tick()
        if self.step is not None:
            self.query_one("#progress", Label).update(_progress_text(self.step, compact=width < COMPACT_WIDTH))

    def _set_phase(self, phase: str, activity: str = "") -> None:
        self.phase = phase
        self.query_one("#activity", Label).update(activity)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit":
            # Live while waiting too, so a second Ctrl+S says why nothing happens instead of nothing.
            return self.phase in ("answering", "waiting")
        if action == "skip":
            if self.phase == "answering":
                return True
            # Shown but greyed while the interviewer "thinks", hidden during feedback.
            return None if self.phase == "waiting" else False
        if action in ("continue", "feedback_hint"):
            return self.phase == "feedback"
        if action == "retry":
            return self.phase == "feedback" and self._can_retry
        return True

    # -- actions --------------------------------------------------------------------------------------

    def action_submit(self) -> None:
        if self.phase == "waiting":
            self.notify("Still grading your last answer: it is saved. The next question appears in a moment.",
                        severity="warning")
            return
        if self.phase != "answering" or self.step is None:
            return
        answer = self.query_one("#answer", TextArea)
        text = strip_control(answer.text).strip()
        if not text:
            self.notify("Type an answer first (or Ctrl+N to skip the question).", severity="warning")
            return
        if len(text.encode("utf-8")) > MAX_ANSWER_BYTES:
            self.notify(f"Your answer is {len(text.encode('utf-8')):,} bytes; the limit is {MAX_ANSWER_BYTES:,}. "
                        "Shorten it, then press Ctrl+S.", severity="error", timeout=15)
            return
        app = self.mockint
        step = self.step
        # Stored and committed before grading starts: a crash from here on loses nothing. If the
        # database will not take it, it stays in the box and goes to the recovery file.
        turn_id = keep_words(app, lambda: self._store_answer(step, text), words=text,
                             what=f"answer to {step.question.id}")
        if turn_id is None:
            return
        self._saved_draft = ""
        self.query_one(Transcript).add_turn("candidate", text, kind="answer")
        answer.clear()
        self._await_grade(turn_id, step, text)

    def _store_answer(self, step: Step, text: str) -> int:
        app = self.mockint
        session_id = app.session_id or ""
        if self._unsaved_prompt is not None:
            app.store.add_turn(session_id, **self._unsaved_prompt)
            self._unsaved_prompt = None
        return app.store.add_turn(session_id, **step.answer_turn(text))

    def _await_grade(self, turn_id: int, step: Step, text: str) -> None:
        app = self.mockint
        self._last_answer = text
        if app.grader_state == "loading":
            waiting = "Waiting for the grader to load…"
        elif self.mode == "practice":
            waiting = "Grading your answer…"
        else:
            waiting = "The interviewer is reading your answer…"
        self._set_phase("waiting", waiting)
        # No typing ahead: whatever comes next (a probe, the next question) is not known yet, and
        # text typed now would end up answering a prompt the candidate has not seen.
        box = self.query_one("#answer", TextArea)
        self.query_one(Timers).hold()
        box.read_only = True
        box.add_class("-waiting")
        box.placeholder = waiting
        app.grade_answer(_job(turn_id, step.question, text, lambda result: self._answered(step, text, result)))

    def _answered(self, step: Step, text: str, result: GradeResult | None) -> None:
        assert self.interview is not None
        next_step = self.interview.answer(text, result)
        if self.mode == "practice" and step.kind == "question":
            self.query_one(Transcript).add_widget(FeedbackView(step.question, text, result))
            self._show_feedback(next_step)
            return
        self.show_step(next_step)

    def _show_feedback(self, next_step: Step | None) -> None:
        self._pending_step = next_step
        self._can_retry = True
        answer = self.query_one("#answer", TextArea)
        answer.read_only = True
        # The box would invite typing that goes nowhere; the feedback gets the room instead.
        answer.display = False
        transcript = self.query_one(Transcript)
        transcript.focus()
        where = "next question" if next_step is not None else "finish and see the report"
        self._set_phase("feedback", f"Enter: {where} · Ctrl+R: retry this question")
        feedback = transcript.query(FeedbackView)
        if feedback:
            # Open at the grade, not at the end of the model answer.
            transcript.call_after_refresh(transcript.reveal, feedback.last())

    def action_feedback_hint(self) -> None:
        self.notify("Your answer is graded: read the feedback, then press Enter for the next question "
                    "(or Ctrl+R to retry).")

    def action_continue(self) -> None:
        if self.phase != "feedback":
            return
        self.show_step(self._pending_step)

    def action_retry(self) -> None:
        if self.phase != "feedback" or self.interview is None:
            return
        self.show_step(self.interview.retry())
        # The previous attempt goes back in the box: improving it beats retyping it.
        answer = self.query_one("#answer", TextArea)
        answer.text = self._last_answer
        answer.move_cursor(answer.document.end)

    def action_skip(self) -> None:
        """Ctrl+N: ask first, since a skip counts as grade 0 and cannot be taken back."""
        if self.phase != "answering" or self.step is None:
            return
        step = self.step

        def decided(skip: bool | None) -> None:
            if skip and self.step is step and self.phase == "answering":
                self.skip_question()

        has_draft = bool(self.query_one("#answer", TextArea).text.strip())
        self.app.push_screen(ConfirmSkip(step.text, has_draft=has_draft), decided)

    def skip_question(self) -> None:
        """Skip the current question (the draft, if any, is kept as a note)."""
        if self.phase != "answering" or self.step is None or self.interview is None:
            return
        app = self.mockint
        step = self.step
        self.save_draft(final=True)
        session_id = app.session_id or ""

        def store_skip() -> int:
            if self._unsaved_prompt is not None:
                app.store.add_turn(session_id, **self._unsaved_prompt)
                self._unsaved_prompt = None
            return app.store.add_turn(session_id, **step.skip_turn())

        if keep_words(app, store_skip, words=None, what="skip") is None:
            return
        self.query_one("#answer", TextArea).clear()
        self.query_one(Transcript).add_turn("candidate", "*(skipped)*", kind="skip")
        self.show_step(self.interview.skip())

    def save_clock(self) -> None:
        """Record both timers, so ``mockint resume`` continues them (every few seconds and on quit)."""
        if self.step is None or self.finished or not self.is_mounted:
            return
        elapsed = self.query_one(Timers).elapsed()
        if elapsed is None:
            return
        app = self.mockint
        # The clock is a convenience: a busy or read-only database just means the next save.
        with contextlib.suppress(StoreError):
            app.store.save_clock(app.session_id or "", round_id=self.step.round.id, round_elapsed=elapsed[1],
                                 question_key=_question_key(self.step), question_elapsed=elapsed[0])

    def save_draft(self, *, final: bool = False) -> None:
        """Keep whatever is in the answer box as the session's draft, so nothing typed is ever lost.

        While typing (``final=False``) a busy database just means "next time"; on quit, skip or a
        stop signal (``final=True``) a draft the database will not take goes to the recovery file.
        """
        if self.step is None or self.finished or not self.is_mounted:
            return
        if final:
            self.save_clock()
        answer = self.query_one("#answer", TextArea)
        text = answer.text
        if not text.strip() or answer.read_only or text == self._saved_draft:
            return
        if len(text.encode("utf-8")) > MAX_ANSWER_BYTES and not final:
            return  # over the limit: the notice asks to shorten it; it is kept on quit all the same
        app = self.mockint
        where = self.step.answer_turn(text)
        session_id = app.session_id or ""

        def write() -> None:
            app.store.save_draft(session_id, text, question_id=where["question_id"], round_id=where["round_id"],
                                 point_id=where["point_id"])

        if final:
            saved = keep_words(app, lambda: write() or True, words=text, what=f"draft for {self.step.question.id}",
                               notify=False)
        else:
            try:
                write()
                saved = True
            except StoreWriteError:
                saved = None  # the next change (or quitting) tries again
        if saved:
            self._saved_draft = text

    def autosave_draft(self) -> None:
        """Save the draft when it changed since the last save; resume restores the newest one."""
        self.save_draft()

    @on(TextArea.Changed, "#answer")
    def _answer_changed(self, event: TextArea.Changed) -> None:
        # Debounced: saved a second after typing pauses, so a crash or a closed terminal costs at most that.
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE_SECONDS, self.autosave_draft)
        too_long = len(event.text_area.text) > MAX_ANSWER_BYTES // 4 and \
            len(event.text_area.text.encode("utf-8")) > MAX_ANSWER_BYTES
        if too_long and not self._warned_too_long:
            self.notify(f"This answer is over the {MAX_ANSWER_BYTES:,}-byte limit; shorten it before submitting.",
                        severity="warning", timeout=10)
        self._warned_too_long = too_long

    # -- the end --------------------------------------------------------------------------------------

    def _finish(self) -> None:
        self.finished = True
        self.step = None
        self.query_one(Timers).stop()
        answer = self.query_one("#answer", TextArea)
        answer.read_only = True
        answer.display = False
        app = self.mockint
        activity = "Grading your answers…" if app.grading_pending or app.grader_state == "loading" else ""
        self._set_phase("finishing", activity)
        app.when_graded(self._show_report)

    def _show_report(self) -> None:
        app = self.mockint
        assert app.session_id is not None
        session_id = app.session_id
        # Every answer is already stored; if marking the session finished fails, resume finishes it.
        keep_words(app, lambda: app.store.finish_session(session_id), words=None, what="finished session")
        app.switch_screen(ReportScreen(app.session_id))


def render_transcript(
    transcript: Transcript,
    pack: LoadedPack,
    turns: list[TurnRecord],
    grades: dict[int, GradeResult],
    *,
    feedback: bool,
    captions: bool = False,
    round_ids_for: list[str] | None = None,
) -> None:
    """Stored turns as chat bubbles, with round headings; feedback panels after graded main answers."""
    turns, grades = for_display(turns, grades)
    asked_rounds = list(dict.fromkeys(t.round_id for t in turns if t.is_prompt and t.round_id))
    round_ids = round_ids_for or [r.id for r in pack.pack.rounds if r.id in asked_rounds]
    rounds = {r.id: r for r in pack.pack.rounds}
    seen_rounds: list[str] = []
    asked: dict[str, int] = {}
    for turn in turns:
        if turn.kind == "briefing" or (turn.kind == "note" and turn.role != "interviewer"):
            continue  # an interviewer's note is the coding round's talk-through request: shown
        if turn.is_prompt and turn.round_id and turn.round_id not in seen_rounds and turn.round_id in rounds:
            seen_rounds.append(turn.round_id)
            round_ = rounds[turn.round_id]
            number = round_ids.index(round_.id) + 1 if round_.id in round_ids else len(seen_rounds)
            transcript.add_round(number, max(len(round_ids), number), round_.title)
        if turn.kind == "skip":
            transcript.add_turn("candidate", "*(skipped)*", kind="skip")
            continue
        caption = {"probe": "follow-up", "note": "talk-through"}.get(turn.kind, "")
        if turn.kind == "question" and turn.question_id:
            asked[turn.question_id] = asked.get(turn.question_id, 0) + 1
            caption = f"attempt {asked[turn.question_id]}" if asked[turn.question_id] > 1 else ""
        grade = grades.get(turn.id)
        if captions and turn.kind == "answer":
            caption = f"grade {grade.grade}/4 · {grade.label} · score {grade.score}" if grade else "not graded"
        transcript.add_turn(turn.role, turn.text, caption=caption, kind=turn.kind)
        if feedback and turn.kind == "answer" and turn.point_id is None and grade is not None:
            question = pack.questions.get(turn.question_id or "")
            if question is not None:
                transcript.add_widget(FeedbackView(question, turn.text, grade))


def _job(turn_id: int, question: Question, text: str, done: Any) -> Any:
    from grader.tui.app import GradingJob

    return GradingJob(turn_id=turn_id, question=question, text=text, done=done)


def _perf() -> float:
    import time

    return time.perf_counter()


def _question_key(step: Step) -> str:
    """Which question timer a saved clock belongs to: probes share their question's, a retry starts anew."""
    return f"{step.question.id}#{step.attempt}"


def _prompt_caption(step: Step) -> str:
    if step.kind == "probe":
        return f"follow-up {step.probe_number}"
    return f"attempt {step.attempt}" if step.attempt > 1 else ""


def _progress_text(step: Step, *, compact: bool = False) -> Text:
    text = Text()
    text.append(f"Q{step.index}/{step.total}" if compact else f"Question {step.index} of {step.total}", style="bold")
    if step.kind == "probe":
        text.append(f" · follow-up {step.probe_number}", style="italic")
    return text


NARROW_WIDTH = 60
"""Below this many columns the top bar keeps only the question timer."""
COMPACT_WIDTH = 100
"""Below this many columns the top bar abbreviates its counters (an 80-column terminal)."""


def _trailing_draft(turns: list[TurnRecord]) -> str:
    """The draft saved at quit: the last note after the last prompt or response."""
    drafts: list[str] = []
    for turn in turns:
        if turn.kind == "note" and turn.role == "candidate":
            drafts.append(turn.text)
        elif turn.is_prompt or turn.is_response:
            drafts = []
    return drafts[-1] if drafts else ""


def _ends_with_answer(turns: list[TurnRecord]) -> bool:
    for turn in reversed(turns):
        if turn.is_prompt:
            return False
        if turn.is_response:
            return turn.kind == "answer"
    return False


def _already_asked(turns: list[TurnRecord], step: Step | None) -> bool:
    """Whether the last stored prompt is this step, still unanswered (so resume must not re-ask it)."""
    if step is None:
        return False
    for turn in reversed(turns):
        if turn.is_response:
            return False
        if turn.is_prompt:
            return (
                turn.kind == step.kind
                and turn.question_id == step.question.id
                and (turn.point_id or None) == (step.probe_point_id or None)
            )
    return False


# -- report, review, history -----------------------------------------------------------------------


def build_session_report(app: MockintApp, session_id: str) -> Report:
    from grader.interview.report import build_report

    session = app.store.session(session_id)
    pack = app.load_pack(session.company)
    turns, grades = for_display(app.store.turns(session_id), app.store.latest_grades(session_id))
    return build_report(pack, turns, grades, session=session)


def session_report_figures(app: MockintApp, session: SessionRecord) -> SessionFigures | None:
    """The session's figures, or None when its pack can no longer be loaded."""
    from grader.engine.loader import RubricError, UnknownNameError

    try:
        return build_session_report(app, session.id).figures
    except (UnknownNameError, RubricError):
        return None


def _report_and_coding(app: MockintApp, session_id: str) -> tuple[Report, str]:
    from grader.tui.coding_screen import coding_markdown

    report = build_session_report(app, session_id)
    return report, coding_markdown(app, session_id, report)


class ReportScreen(Screen[None]):
    """The end of the interview: the report, verdict first."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q,escape", "app.quit", "Close")]

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    @property
    def mockint(self) -> MockintApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield ReportView(*_report_and_coding(self.mockint, self.session_id), id="report")
        yield Static(
            f"Saved as session {self.session_id}. Review it with `mockint review {self.session_id}`; "
            f"export with `mockint export {self.session_id} --format md`.",
            id="report-footnote",
        )
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(ReportView).focus()


class ReviewScreen(Screen[None]):
    """A past session, read-only: its transcript with each answer's grade, and its report."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "tab('transcript')", "Transcript"),
        Binding("2", "tab('report')", "Report"),
        Binding("q,escape", "close", "Back"),
    ]

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    @property
    def mockint(self) -> MockintApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        app = self.mockint
        session = app.store.session(self.session_id)
        pack = app.load_pack(session.company)
        yield Header()
        yield FitLabel(*_session_lines(session, pack), id="review-title")
        with TabbedContent(id="review-tabs", initial="transcript"):
            with TabPane("Transcript", id="transcript"):
                yield Transcript(id="review-transcript", follow=False)
            with TabPane("Report", id="report"):
                yield ReportView(*_report_and_coding(app, self.session_id))
        yield KeyFooter()

    def on_mount(self) -> None:
        app = self.mockint
        session = app.store.session(self.session_id)
        pack = app.load_pack(session.company)
        grades = app.store.latest_grades(self.session_id)
        transcript = self.query_one(Transcript)
        render_transcript(transcript, pack, app.store.turns(self.session_id), grades, feedback=True, captions=True,
                          round_ids_for=session.round_ids)
        transcript.focus()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()


def _session_lines(session: SessionRecord, pack: LoadedPack | None) -> tuple[str, ...]:
    """The review's title line, longest first: the widest that fits the terminal is shown."""
    company = pack.pack.display_name if pack else session.company
    status = "finished" if session.finished else "unfinished"
    started = session.started_at[:16].replace("T", " ")
    return (
        f"Session {session.id} · {company} · {session.mode} mode · {started} UTC · {status}",
        f"Session {session.id} · {company} · {session.mode} · {status}",
        f"{session.id} · {status}",
    )


class HistoryScreen(Screen[None]):
    """Past sessions, newest first; Enter opens one for review."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "app.quit", "Quit", show=False),
        # Priority: the table's own Enter binding is hidden from the footer.
        Binding("enter", "open", "Review session", priority=True),
    ]

    @property
    def mockint(self) -> MockintApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="history"):
            yield Label("Past sessions: Enter opens one for review", id="history-title")
            yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        store = self.mockint.store
        table = self.query_one(DataTable)
        # What tells sessions apart first, so an 80-column terminal shows the grade without scrolling.
        table.add_columns("Session", "Status", "Answered", "Grade", "Mode", "Company", "Started (UTC)", "Rounds")
        for session in store.sessions():
            # The same figures as the report, history and export (grader.interview.report.SessionFigures).
            figures = session_report_figures(self.mockint, session)
            table.add_row(
                session.id,
                "finished" if session.finished else "unfinished",
                f"{figures.answered} of {figures.questions}" if figures else "–",
                grade_summary(figures),
                session.mode,
                session.company,
                session.started_at[:16].replace("T", " "),
                ", ".join(session.round_ids) or "all",
                key=session.id,
            )
        if not table.row_count:
            self.query_one("#history-title", Label).update(
                "No sessions yet. Start one with: mockint start --company pinterest"
            )
        table.focus()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        if row_key.value:
            self.app.push_screen(ReviewScreen(str(row_key.value)))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(ReviewScreen(str(event.row_key.value)))
