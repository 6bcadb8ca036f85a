"""The Textual app: conducts an interview, reviews a past one, and runs the grader in the background.

Start-up must put the first question on screen within a second, so nothing here imports
sentence-transformers or torch: the grader is built and warmed in a thread worker while the
candidate reads the briefing, and each answer is graded in a thread worker after it has been
stored. The app owns the grading queue; screens ask for grades and are called back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType

from grader.engine.loader import LoadedPack
from grader.engine.result import GradeResult
from grader.engine.rubric import Question
from grader.startup import resume_collection
from grader.store import Store
from grader.tui.commands import MockintCommands
from grader.tui.safekeeping import UnsavedWords
from grader.tui.widgets import GraderStatus

STOP_GRACE_SECONDS = 10.0
"""After SIGTERM or SIGHUP the draft is saved at once and the app asked to exit; if the process is
still alive this long after, it ends itself. With the terminal gone, Textual's writer thread can
die on its first write while the app, shutting down, waits to queue its last frame for it: a
benchmark left such processes asleep for good, holding about 800 MB each. Nothing is lost by then:
the draft was saved before the exit began."""


def _end_process(code: int) -> None:
    os._exit(code)  # a hung shutdown cannot be unwound; everything typed is already saved

if TYPE_CHECKING:
    from grader.engine.encoder import Encoder
    from grader.engine.grading import Grader

Purpose = Literal["interview", "review", "history"]
GraderState = Literal["loading", "ready", "unavailable", "off"]
EncoderFactory = Callable[[], "Encoder"]
Clock = Callable[[], float]


@dataclass
class GradingJob:
    """One stored answer waiting for a grade; ``done`` runs on the UI thread with the result."""

    turn_id: int
    question: Question
    text: str
    done: Callable[[GradeResult | None], None] | None = None


class MockintApp(App[None]):
    """``mockint start`` / ``resume`` (purpose "interview"), ``review`` and its history list."""

    CSS_PATH = "app.tcss"
    TITLE = "mockint"
    # Ctrl+P: Textual's own commands plus mockint's (jump to a question, export, theme, help).
    COMMANDS = App.COMMANDS | {MockintCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "request_quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
        # Not priority: in the answer box "?" is a question mark.
        Binding("question_mark", "help", "Help", show=False),
    ]
    # Screens get these classes by size, and app.tcss gives small terminals a tighter layout.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (60, "-medium"), (100, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (20, "-compact"), (32, "-tall")]

    def __init__(
        self,
        *,
        store: Store,
        loaded_pack: LoadedPack | None = None,
        session_id: str | None = None,
        purpose: Purpose = "interview",
        encoder_factory: EncoderFactory | None = None,
        clock: Clock = time.monotonic,
        pack_loader: Callable[[str], LoadedPack] | None = None,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.store = store
        self.pack = loaded_pack
        self.session_id = session_id
        self.purpose = purpose
        self.clock = clock
        self.cursor_blink = cursor_blink
        """Off in snapshot tests, so a blinking cursor never makes two runs differ."""
        self._encoder_factory = encoder_factory
        self._pack_loader = pack_loader
        self.grader: Grader | None = None
        self.grader_state: GraderState = "off" if purpose != "interview" else "loading"
        self.grader_reason = ""
        self.grades: dict[int, GradeResult] = {}
        self._jobs: deque[GradingJob] = deque()
        self._grading = False
        self._drained: list[Callable[[], None]] = []
        self.started_at = time.perf_counter()
        """For the latency benchmark: when the app object was built."""
        self.first_question_at: float | None = None
        self.unsaved: UnsavedWords | None = None
        """The last write of the candidate's words that failed (None once a later one succeeds)."""
        self.handle_stop_signals = False
        """Set by ``mockint start``/``resume``: SIGTERM and SIGHUP save the draft and close cleanly."""
        self.stopped_by: str | None = None

    # -- start-up ----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # Imported here: screens pull in Markdown parsing and more, none of it needed for --help.
        from grader.tui.screens import BriefingScreen, HistoryScreen, InterviewScreen, ReviewScreen

        # `mockint` paused garbage collection for start-up; it resumes once the first screen is up.
        self.call_after_refresh(resume_collection)
        if self.handle_stop_signals:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self._stop_on_signal, signum)
        for notice in self.store.notices:  # e.g. an answer a killed run left unsaved, now in the recovery file
            self.notify(notice, timeout=15)

        if self.purpose == "history":
            self.push_screen(HistoryScreen())
            return
        assert self.session_id is not None, "review and interview need a session"
        if self.purpose == "review":
            self.push_screen(ReviewScreen(self.session_id))
            return
        # After the first paint: importing torch in a thread competes with the UI thread for the
        # GIL (and the import lock), which would delay the first screen by seconds.
        self.call_after_refresh(self.warm_grader)
        if self.store.turns(self.session_id):
            self.push_screen(InterviewScreen(resuming=True))
        else:
            self.push_screen(BriefingScreen())
        if self.pack is not None:
            self.title = f"mockint · {self.pack.pack.display_name}"

    def load_pack(self, company: str) -> LoadedPack:
        """The pack for a reviewed session (history lists sessions of any company)."""
        if self.pack is not None and self.pack.company == company:
            return self.pack
        if self._pack_loader is None:
            from grader.engine.loader import load_company

            return load_company(company)
        return self._pack_loader(company)

    # -- the grader ----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="warm", exit_on_error=False)
    def warm_grader(self) -> None:
        """Build the grader and encode every rubric text, off the UI thread (seconds for the model)."""
        assert self.pack is not None
        try:
            from grader.engine.grading import grader_for_pack

            encoder = self._encoder_factory() if self._encoder_factory else None
            grader = grader_for_pack(self.pack, encoder)
            grader.warm(self.pack.ordered_questions())
        except Exception as exc:  # any failure means the same here: interview on, grading off
            self._from_thread(self._grader_failed, _short_reason(exc))
            return
        self._from_thread(self._grader_ready, grader)

    def _from_thread(self, callback: Callable[..., object], *args: object) -> None:
        # RuntimeError: the app closed while the worker ran; the answer is stored, regrade grades it.
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(callback, *args)

    def _grader_ready(self, grader: Grader) -> None:
        self.grader = grader
        self._set_grader_state("ready", "")
        self._pump()

    def _grader_failed(self, reason: str) -> None:
        self._set_grader_state("unavailable", reason)
        self.notify(
            f"Grading is unavailable: {reason}\nThe interview goes on; answers are saved to grade later "
            "with `mockint regrade`.",
            title="Grader",
            severity="warning",
            timeout=8,
        )
        self._pump()

    def _set_grader_state(self, state: GraderState, reason: str) -> None:
        self.grader_state = state
        self.grader_reason = reason
        for screen in self.screen_stack:
            for status in screen.query(GraderStatus):
                status.reason = reason
                status.state = state

    def grade_answer(self, job: GradingJob) -> None:
        """Queue a stored answer for grading; jobs run one at a time, in order, in a thread."""
        self._jobs.append(job)
        self._pump()

    @property
    def grading_pending(self) -> bool:
        return self._grading or bool(self._jobs)

    def when_graded(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once every queued answer has its grade (or grading gave up)."""
        self._drained.append(callback)
        self._pump()

    def _pump(self) -> None:
        if self._grading:
            return
        if self._jobs and self.grader_state == "unavailable":
            # Never a made-up grade: the answers stay stored and ungraded.
            while self._jobs:
                job = self._jobs.popleft()
                if job.done:
                    job.done(None)
        if self._jobs and self.grader_state == "ready":
            self._grading = True
            self._grade_in_thread(self._jobs.popleft())
            return
        if not self._jobs and self.grader_state != "loading":
            callbacks, self._drained = self._drained, []
            for callback in callbacks:
                callback()

    @work(thread=True, group="grading", exit_on_error=False)
    def _grade_in_thread(self, job: GradingJob) -> None:
        assert self.grader is not None
        result: GradeResult | None = None
        error = ""
        try:
            result = self.grader.grade(job.question, job.text)
            # Committed here, off the UI thread (the store serialises its connection with a lock),
            # so the feedback appears without waiting on the disk.
            self.store.record_grade(job.turn_id, result)
        except Exception as exc:  # neither should raise; if one does, the answer stays stored ungraded
            result, error = None, _short_reason(exc)
        finally:
            # Always hand back, or the queue would wait forever on this job.
            self._from_thread(self._graded, job, result, error)

    def _graded(self, job: GradingJob, result: GradeResult | None, error: str) -> None:
        self._grading = False
        if result is not None:
            self.grades[job.turn_id] = result
        else:
            self.notify(f"Could not grade this answer ({error}); it is saved ungraded.", severity="error")
        if job.done:
            job.done(result)
        self._pump()

    # -- help, theme, export --------------------------------------------------------------------------

    def action_help(self) -> None:
        """F1 / ?: the keys that work here, the focused widget's first."""
        from grader.tui.dialogs import HelpScreen, help_sections

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(help_sections(self)))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme != "textual-light" else "textual-dark"

    def action_export_markdown(self) -> None:
        """Write this session as Markdown (what ``mockint export`` prints) under the user directory."""
        from grader.interview.report import render_markdown
        from grader.paths import user_dir
        from grader.safe_text import safe_markdown
        from grader.tui.screens import build_session_report

        if self.session_id is None:
            return
        target = user_dir() / "exports" / f"{self.session_id}.md"
        try:
            text = safe_markdown(render_markdown(build_session_report(self, self.session_id)))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"Could not write {target}: {exc.strerror}", title="Export", severity="error")
            return
        self.notify(f"Wrote {target}", title="Export", timeout=8)

    # -- quitting ------------------------------------------------------------------------------------

    def _stop_on_signal(self, signum: int) -> None:
        """SIGTERM (kill) or SIGHUP (terminal closed): keep the draft, then exit so the terminal is restored."""
        from grader.tui.coding_screen import CodingScreen
        from grader.tui.screens import InterviewScreen

        self.stopped_by = signal.Signals(signum).name
        for screen in self.screen_stack:
            if isinstance(screen, InterviewScreen | CodingScreen):
                screen.save_draft(final=True)
        watchdog = threading.Timer(STOP_GRACE_SECONDS, _end_process, args=(128 + signum,))
        watchdog.daemon = True  # a process that exits normally does not wait for it
        watchdog.start()
        self.exit()

    def action_request_quit(self) -> None:
        """Ctrl+Q: confirm first when an interview is running, because a stray key should not end it."""
        from grader.tui.coding_screen import CodingScreen
        from grader.tui.screens import ConfirmQuit, InterviewScreen

        screen = self.screen
        if isinstance(screen, ConfirmQuit):
            return
        # The code editor sits on top of the interview: quitting it is quitting the interview.
        interviewing = isinstance(screen, CodingScreen) or (isinstance(screen, InterviewScreen) and not screen.finished)
        if not interviewing:
            self.exit()
            return

        def decided(quit_: bool | None) -> None:
            if quit_:
                screen.save_draft(final=True)
                self.exit()

        self.push_screen(ConfirmQuit(self.session_id or ""), decided)


def _short_reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
