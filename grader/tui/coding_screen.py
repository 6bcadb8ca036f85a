"""The coding round: the problem beside a Python editor, runs in the sandbox, then the talk-through.

Flow (the interview screen hands over here for a question with a ``coding`` block):

1. ``CodingScreen`` shows the prompt, signature and public examples beside ``TextArea.code_editor``.
   F5 runs the public examples; Ctrl+S submits against every test. Each run happens in a thread
   worker (the sandbox's watchdog stops endless loops; the screen stays responsive meanwhile) and is
   stored through the Store with its code, verdicts and timings. The editor's content is saved as a
   draft a moment after each change, so a SIGKILL loses at most that moment.
2. Ctrl+T (after a submission) ends the coding: the interviewer's talk-through request, with the
   submission's result, is stored as an interviewer note and shown; the candidate answers in the
   usual answer box, graded against the question's points, with follow-up probes as in any round.

Ctrl+N skips the question as in the other rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Header, Label, Markdown, TextArea

from grader.engine.rubric import Question
from grader.tui.widgets import KeyFooter

if TYPE_CHECKING:
    from grader.coding.runner import RunKind, RunReport
    from grader.interview import Step
    from grader.interview.report import Report
    from grader.store import TurnRecord
    from grader.tui.app import MockintApp
    from grader.tui.screens import InterviewScreen

DRAFT_DEBOUNCE_SECONDS = 0.5
"""How long after the last keystroke the editor's content is saved."""
TALK_THROUGH_CAPTION = "talk-through"


@dataclass(frozen=True)
class CodingDone:
    """How the coding screen ended: skipped, or finished with the last submission (if any)."""

    skipped: bool
    submission: RunReport | None = None


def problem_markdown(question: Question) -> str:
    """The prompt, the signature and the public examples (the hidden tests stay hidden)."""
    spec = question.coding
    assert spec is not None
    lines = [question.prompt.strip(), "", f"```python\n{spec.signature}\n```", "", "**Examples**", ""]
    for number, example in enumerate(spec.examples, start=1):
        args = ", ".join(_json(arg) for arg in example.args)
        why = f": {example.explanation}" if example.explanation else ""
        lines.append(f"{number}. `{spec.function}({args})` returns `{_json(example.expected)}`{why}")
    lines += [
        "",
        f"Limits: {spec.time_limit_seconds:g} s of CPU per test, {spec.memory_limit_mb} MB. Python standard "
        f"library only. {len(spec.tests)} hidden tests run on submit.",
    ]
    return "\n".join(lines)


def _json(value: object) -> str:
    import json

    return json.dumps(value)


class PythonEditor(TextArea):
    """The code editor: Textual's TextArea with Python highlighting, and Enter keeping the indentation
    (one level deeper after a line ending in a colon), which TextArea alone does not do."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key != "enter" or self.read_only:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        row, column = self.cursor_location
        before = self.document.get_line(row)[:column]
        indent = before[: len(before) - len(before.lstrip(" "))]
        if before.rstrip().endswith(":"):
            indent += " " * self.indent_width
        start, end = self.selection
        # The same call TextArea makes for a typed character, so undo and the cursor behave alike.
        self._replace_via_keyboard("\n" + indent, start, end)


class CodingScreen(Screen[CodingDone]):
    """Problem, editor, results. F5 runs the examples, Ctrl+S submits, Ctrl+T moves to the talk-through."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "run('examples')", "Run examples", priority=True),
        Binding("ctrl+s", "run('submit')", "Submit", priority=True),
        Binding("ctrl+t", "talk", "Talk it through", priority=True),
        Binding("ctrl+n", "skip", "Skip question", priority=True),
    ]

    def __init__(self, step: Step, code: str) -> None:
        super().__init__()
        self.step = step
        self.question = step.question
        self.initial_code = code
        self.running: RunKind | None = None
        self.last_submission: RunReport | None = None
        self.last_report: RunReport | None = None
        self._draft_timer: Timer | None = None
        self._saved_code = code

    @property
    def mockint(self) -> MockintApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        step = self.step
        with Horizontal(id="coding-topbar"):
            yield Label(Text(f"Round {step.round_index}/{step.round_total} · {step.round.title}", style="bold"),
                        id="coding-round")
            yield Label(f"Question {step.index} of {step.total}", id="coding-progress")
        with Horizontal(id="coding-main"):
            with VerticalScroll(id="coding-problem"):
                yield Markdown(problem_markdown(self.question))
            with Vertical(id="coding-work"):
                editor = PythonEditor.code_editor(self.initial_code, language="python", id="code-editor",
                                              soft_wrap=False, tab_behavior="indent")
                yield editor
                yield Label("F5 runs the examples · Ctrl+S submits against every test", id="coding-status")
                yield DataTable(id="coding-results", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        editor = self.query_one("#code-editor", TextArea)
        editor.cursor_blink = self.mockint.cursor_blink
        editor.focus()
        table = self.query_one("#coding-results", DataTable)
        table.add_columns("#", "Test", "Result", "Time", "Input", "Detail")
        table.display = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return None if self.running else True  # greyed while a run is going
        if action == "talk":
            return self.last_submission is not None and not self.running
        return True

    # -- the draft ------------------------------------------------------------------------------------

    @on(TextArea.Changed, "#code-editor")
    def _changed(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE_SECONDS, self.save_draft)

    def save_draft(self, *, final: bool = False) -> None:
        """Store the editor's content when it changed since the last save (resume restores it).

        While typing a busy database means "try again shortly"; on quit or a stop signal
        (``final=True``) code the database will not take goes to the recovery file, as answers do.
        """
        from grader.store import StoreWriteError
        from grader.tui.safekeeping import keep_words

        if not self.is_mounted:
            return
        code = self.query_one("#code-editor", TextArea).text
        if code == self._saved_code:
            return
        app = self.mockint
        session_id = app.session_id or ""

        def write() -> bool:
            app.store.save_code_draft(session_id, self.question.id, code)
            return True

        if final:
            saved = keep_words(app, write, words=code, what=f"code for {self.question.id}", notify=False)
        else:
            try:
                saved = write()
            except StoreWriteError:
                # The database is busy (another mockint, a backup): try again shortly, typing or not.
                self._draft_timer = self.set_timer(DRAFT_DEBOUNCE_SECONDS, self.save_draft)
                return
        if saved:
            self._saved_code = code

    # -- running --------------------------------------------------------------------------------------

    def action_run(self, kind: RunKind) -> None:
        if self.running:
            return
        code = self.query_one("#code-editor", TextArea).text
        if not code.strip():
            self.notify("Write the function first.", severity="warning")
            return
        self.save_draft()
        self.running = kind
        what = "the examples" if kind == "examples" else f"all {len(self.question.coding.all_tests)} tests"  # type: ignore[union-attr]
        self._status(f"Running {what} in the sandbox…", "")
        self.refresh_bindings()
        self._run_in_thread(kind, code)

    @work(thread=True, exclusive=True, group="code", exit_on_error=False)
    def _run_in_thread(self, kind: RunKind, code: str) -> None:
        from grader.coding.runner import run_code

        app = self.mockint
        try:
            report = run_code(self.question, code, kind)
            app.store.record_code_run(app.session_id or "", question_id=self.question.id,
                                      round_id=self.step.round.id, kind=kind, code=code, report=report.to_dict())
        except Exception as exc:  # the sandbox could not start, or the store failed: say so, keep the code
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            app.call_from_thread(self._failed, message)
            return
        app.call_from_thread(self._show_report, report)

    def _failed(self, message: str) -> None:
        self.running = None
        self.refresh_bindings()
        self._status(f"Could not run the code: {message}", "-fail")

    def _show_report(self, report: RunReport) -> None:
        self.running = None
        self.last_report = report
        if report.kind == "submit":
            self.last_submission = report
        table = self.query_one("#coding-results", DataTable)
        table.clear()
        for outcome in report.outcomes:
            style = "green" if outcome.passed else ("dim" if outcome.status == "not-run" else "red")
            table.add_row(
                str(outcome.number),
                outcome.name,
                Text(outcome.status_word, style=style),
                f"{outcome.runtime_ms:.1f} ms" if outcome.runtime_ms is not None else "–",
                outcome.input if outcome.public else "(hidden)",
                outcome.message,
            )
        table.display = True
        hint = ""
        if report.kind == "submit":
            hint = " · Ctrl+T: talk it through" if report.all_passed else \
                " · fix and submit again, or Ctrl+T to move on"
        self._status(report.summary + hint, "-pass" if report.all_passed else "-fail")
        self.refresh_bindings()

    def _status(self, text: str, state: str) -> None:
        label = self.query_one("#coding-status", Label)
        label.update(text)
        label.set_class(state == "-pass", "-pass")
        label.set_class(state == "-fail", "-fail")

    # -- leaving --------------------------------------------------------------------------------------

    def action_talk(self) -> None:
        if self.last_submission is None or self.running:
            return
        self.save_draft(final=True)
        self.dismiss(CodingDone(skipped=False, submission=self.last_submission))

    def action_skip(self) -> None:
        """Ctrl+N: ask first, as in the other rounds (a skip counts as grade 0)."""
        if self.running:
            return
        from grader.tui.dialogs import ConfirmSkip

        def decided(skip: bool | None) -> None:
            if skip:
                self.save_draft(final=True)
                self.dismiss(CodingDone(skipped=True))

        self.app.push_screen(ConfirmSkip(self.step.text, has_draft=False), decided)


# -- hand-over from and back to the interview screen ----------------------------------------------


def talk_through_text(question: Question, submission: RunReport | None) -> str:
    """What the interviewer says after the code: the submission's result, then the talk-through request."""
    assert question.coding is not None
    result = f"Submitted: {submission.summary}." if submission else "No submission."
    return f"{result}\n\n{question.coding.talk_through}"


def talk_through_asked(turns: list[TurnRecord], question_id: str) -> bool:
    """Whether the talk-through was asked after the question's last prompt (resume: skip the editor)."""
    for turn in reversed(turns):
        if turn.is_prompt:
            return False
        if turn.role == "interviewer" and turn.kind == "note" and turn.question_id == question_id:
            return True
    return False


def start_coding(screen: InterviewScreen, step: Step) -> None:
    """Open the editor for a coding question, unless its talk-through has already been asked."""
    app: MockintApp = screen.app  # type: ignore[assignment]
    session_id = app.session_id or ""
    if talk_through_asked(app.store.turns(session_id), step.question.id):
        return
    spec = step.question.coding
    assert spec is not None
    runs = app.store.code_runs(session_id, step.question.id)
    code = app.store.code_draft(session_id, step.question.id) or (runs[-1].code if runs else spec.starter_code)

    def finished(done: CodingDone | None) -> None:
        if done is None or done.skipped:
            screen.skip_question()
            return
        text = talk_through_text(step.question, done.submission)
        app.store.add_turn(session_id, role="interviewer", kind="note", text=text, question_id=step.question.id,
                           round_id=step.round.id)
        from grader.tui.widgets import Transcript

        screen.query_one(Transcript).add_turn("interviewer", text, caption=TALK_THROUGH_CAPTION, kind="note")
        screen.query_one("#answer", TextArea).focus()

    app.push_screen(CodingScreen(step, code), finished)


def coding_markdown(app: MockintApp, session_id: str, report: Report) -> str:
    """The report's coding section for a session ("" when it had no coding round)."""
    from grader.interview.coding_summary import coding_summaries, render_coding_markdown

    return render_coding_markdown(coding_summaries(report, app.store.code_runs(session_id)))
