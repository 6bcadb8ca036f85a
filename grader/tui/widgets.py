"""Widgets for the interview screens: chat turns, timers, grader status and grade feedback.

Widgets receive data (attributes down) and never touch the store or the grader; the screens
own those calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.markdown import Markdown as RichMarkdown
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer, Label, Static

from grader.engine.result import CLOSE_CALL_CREDITED, CLOSE_CALL_NOT_CREDITED, GradeResult
from grader.engine.rubric import Question

SPEAKERS = {"interviewer": "Interviewer", "candidate": "You", "system": "mockint"}


def format_seconds(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a non-negative duration."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TurnView(Vertical):
    """One chat bubble: who spoke, and what they said rendered as Markdown."""

    def __init__(self, role: str, text: str, *, caption: str = "", kind: str = "") -> None:
        classes = f"turn -{role}" + (f" -{kind}" if kind else "")
        super().__init__(classes=classes)
        self.role = role
        self.text = text
        self.caption = caption
        self.kind = kind

    def compose(self) -> ComposeResult:
        speaker = SPEAKERS.get(self.role, self.role)
        yield Label(f"{speaker}{'  · ' + self.caption if self.caption else ''}", classes="speaker")
        # A candidate's line breaks are theirs: keep them (Markdown would join the lines).
        text = self.text.replace("\n", "  \n") if self.role == "candidate" else self.text
        # Rich's Markdown in one Static, not Textual's Markdown widget: a long transcript mounts
        # dozens of turns, and one widget per turn keeps review and resume instant.
        yield Static(RichMarkdown(text), classes="body")


class Transcript(VerticalScroll, can_focus=True):
    """The conversation so far; during an interview new turns scroll into view (``follow``)."""

    def __init__(self, *, follow: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.follow = follow
        self._revealed: Widget | None = None

    def add_turn(self, role: str, text: str, *, caption: str = "", kind: str = "") -> TurnView:
        view = TurnView(role, text, caption=caption, kind=kind)
        self.add_widget(view)
        return view

    def add_round(self, number: int, total: int, title: str) -> None:
        self.add_widget(Label(f"Round {number} of {total} · {title}", classes="round-heading"))

    def add_widget(self, widget: Widget) -> None:
        self.mount(widget)
        if self.follow:
            self.call_after_refresh(self.reveal, widget)

    def reveal(self, widget: Widget) -> None:
        """Scroll to the end, but never past ``widget``'s first line.

        A question taller than the view then shows from its start (not its last line), and
        practice feedback opens at the grade rather than at the end of the model answer.
        """
        self._revealed = widget
        if widget.is_attached:
            self.scroll_to(y=min(self.max_scroll_y, widget.virtual_region.y), animate=False, immediate=True)

    def on_resize(self) -> None:
        # A terminal made smaller keeps the newest prompt (or the feedback's grade) in view.
        if self.follow:
            self.call_after_refresh(self._reveal_again)

    def _reveal_again(self) -> None:
        if self._revealed is not None:
            self.reveal(self._revealed)


def fit_words(text: str, width: int) -> str:
    """``text`` if it fits in ``width`` cells, else cut at a word boundary with "…" ("" if no word fits)."""
    if cell_len(text) <= width:
        return text
    words = text.split(" ")
    while words:
        words.pop()
        candidate = " ".join(words).rstrip(" ·:,") + "…"
        if cell_len(candidate) <= width and words:
            return candidate
    return ""


class FitLabel(Static):
    """One line that picks the longest of its variants that fits, never cutting a word in half.

    Variants go from the most to the least detailed; the first is also tried cut at a word.
    """

    def __init__(self, *variants: str, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.variants: tuple[str, ...] = variants

    def show(self, *variants: str) -> None:
        self.variants = variants
        self.refresh()

    def render(self) -> RenderableType:
        width = self.content_size.width
        if not self.variants:
            return Text("")
        full, *shorter = self.variants
        if cell_len(full) <= width:
            return Text(full, style="bold")
        cut = fit_words(full, width)
        # A cut that keeps no more than the next variant says less than that variant.
        if shorter and cell_len(cut) <= cell_len(shorter[0]) + 2:
            cut = ""
        for text in [cut, *shorter]:
            if text and cell_len(text) <= width:
                return Text(text, style="bold")
        return Text("")


TIMER_LAYOUTS = ("full", "compact", "question")
"""How much the timers say: labelled, abbreviated, or the question's time alone (narrow terminals)."""


class Timers(Static):
    """Elapsed time on the question and on the round against their budgets; over-time turns red.

    The clock is injected (``App.clock``) so snapshots can freeze it. Running over is shown,
    never enforced: a real interviewer would nudge, not cut the candidate off.
    """

    def __init__(self, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self._clock = clock
        self.question_budget: float | None = None
        self.round_budget: float | None = None
        self.question_started: float | None = None
        self.round_started: float | None = None
        self.running = False
        self._held_at: float | None = None
        self.layout_name = "full"
        """One of ``TIMER_LAYOUTS``; the screen sets it from its width."""

    def on_mount(self) -> None:
        self.set_interval(0.5, self.tick)

    def start_question(self, budget_seconds: float, *, elapsed: float = 0.0) -> None:
        """Time a question from now, or from ``elapsed`` seconds in (a resumed session)."""
        self.question_budget = budget_seconds
        self.question_started = self._clock() - elapsed
        self.running = True
        self.tick()

    def start_round(self, budget_seconds: float, *, elapsed: float = 0.0) -> None:
        self.round_budget = budget_seconds
        self.round_started = self._clock() - elapsed
        self.tick()

    def hold(self) -> None:
        """Stop both clocks while the answer is graded: waiting on the grader is not the candidate's time."""
        if self._held_at is None:
            self._held_at = self._clock()

    def release(self) -> None:
        """Go on from where ``hold`` stopped the clocks."""
        if self._held_at is None:
            return
        held = self._clock() - self._held_at
        self._held_at = None
        if self.question_started is not None:
            self.question_started += held
        if self.round_started is not None:
            self.round_started += held
        self.tick()

    def _now(self) -> float:
        return self._held_at if self._held_at is not None else self._clock()

    def elapsed(self) -> tuple[float, float] | None:
        """Seconds on the question and on the round so far, or None before the first question."""
        if self.question_started is None or self.round_started is None:
            return None
        now = self._now()
        return now - self.question_started, now - self.round_started

    def stop(self) -> None:
        self.running = False

    def tick(self) -> None:
        if self.question_started is None or self.round_started is None:
            self.update("")
            return
        now = self._now()
        text = Text()
        over = False
        compact = self.layout_name != "full"
        parts = [("Question", self.question_started, self.question_budget)]
        if self.layout_name != "question":
            parts.append(("Round", self.round_started, self.round_budget))
        for name, started, budget in parts:
            elapsed = now - started
            if text:
                text.append(" · " if compact else "   ")
            if not compact or name == "Round":
                text.append(f"{name.lower() if compact else name} ", style="dim")
            if budget is not None and elapsed > budget:
                over = True
                text.append(f"+{format_seconds(elapsed - budget)} over", style="bold red")
                if not compact:
                    text.append(f" ({format_seconds(budget)})", style="dim")
            else:
                text.append(format_seconds(elapsed))
                if budget is not None:
                    text.append(f"/{format_seconds(budget)}" if compact else f" / {format_seconds(budget)}",
                                style="dim")
        self.set_class(over, "-over")
        self.update(text)


class GraderStatus(Static):
    """The grader's state in a few words: loading, ready, or unavailable with the reason."""

    state: reactive[str] = reactive("loading")
    reason: reactive[str] = reactive("")

    def render(self) -> RenderableType:
        if self.state == "ready":
            return Text("● grader ready", style="green")
        if self.state == "unavailable":
            return Text(f"✗ grading unavailable: {self.reason}", style="bold red")
        return Text("◌ loading grader…", style="yellow")

    def watch_state(self, state: str) -> None:
        for name in ("loading", "ready", "unavailable"):
            self.set_class(state == name, f"-{name}")


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def highlight_evidence(answer: str, covered: list[str], wrong: list[str]) -> Text:
    """The answer with the sentences that earned points in green and misconceptions in red."""
    text = Text(answer)
    for sentence, style in [(s, "black on green") for s in covered] + [(s, "white on red") for s in wrong]:
        if not sentence:
            continue
        start = answer.find(sentence)
        if start >= 0:
            text.stylize(style, start, start + len(sentence))
    return text


def feedback_renderable(question: Question, answer: str, result: GradeResult | None) -> RenderableType:
    """Practice-mode feedback: grade, evidence, missed points, misconceptions, model answer."""
    parts: list[RenderableType] = []
    if result is None:
        parts.append(
            Text(
                "Not graded: the grader is unavailable. Your answer is saved; grade it later with "
                "`mockint regrade`.",
                style="bold yellow",
            )
        )
    else:
        head = Text()
        head.append(f" Grade {result.grade}/4 · {result.label} ", style="bold reverse")
        head.append(f"  score {result.score}/100", style="bold")
        parts.append(head)
        for notice in result.notices:
            parts.append(Text(f"ℹ {notice}", style="italic"))
        parts.append(Text("\nYour answer", style="bold underline"))
        parts.append(
            highlight_evidence(
                answer,
                [p.evidence or "" for p in result.covered],
                [m.evidence for m in result.misconceptions],
            )
        )
        if result.covered:
            parts.append(Text("\nCovered", style="bold green underline"))
            for point in result.covered:
                line = Text("✓ ", style="green")
                line.append(point.title, style="bold")
                if point.close_call:
                    line.append(f"  {CLOSE_CALL_CREDITED}", style="italic")
                if point.evidence:
                    line.append(f"  “{point.evidence}”", style="green italic")
                parts.append(line)
        unsure = [point for point in result.missed if point.close_call and point.evidence]
        missed = [point for point in result.missed if point not in unsure]
        sections = [
            ("Not sure", "bold underline", "? ", "bold", unsure),
            ("Missed", "bold yellow underline", "✗ ", "yellow", missed),
        ]
        for heading, heading_style, mark, mark_style, points in sections:
            if points:
                parts.append(Text(f"\n{heading}", style=heading_style))
            for point in sorted(points, key=lambda p: -p.weight):
                line = Text(mark, style=mark_style)
                line.append(point.title, style="bold")
                if point in unsure:
                    line.append(f"  Your sentence “{point.evidence}” {CLOSE_CALL_NOT_CREDITED}.")
                line.append(f"  {point.feedback}")
                parts.append(line)
        if result.misconceptions:
            parts.append(Text("\nMisconceptions", style="bold red underline"))
            for wrong in result.misconceptions:
                line = Text("⚠ ", style="red")
                line.append(wrong.claim, style="bold")
                line.append(f"  Your sentence “{wrong.evidence.rstrip('.')}” reads as this claim.", style="italic")
                line.append(f" Correction: {wrong.correction}")
                parts.append(line)
    parts.append(Text("\nModel answer", style="bold underline"))
    # Rendered, so **bold** shows as bold and the rubric's hard line breaks reflow to the width.
    parts.append(RichMarkdown(question.model_answer.strip()))
    return Group(*parts)


class FeedbackView(Static):
    """Practice-mode feedback for one answer, shown in the transcript after the answer."""

    def __init__(self, question: Question, answer: str, result: GradeResult | None) -> None:
        self.feedback = feedback_renderable(question, answer, result)
        super().__init__(self.feedback, classes="feedback")
        self.result = result


class KeyFooter(Footer):
    """Textual's key footer, rebuilt only when the keys it shows change.

    Textual rebuilds every key of the footer on each bindings signal. Pressing Enter on the briefing
    sends nine of them, seven with the same keys as before, and each rebuild restyles every key:
    about 50 ms of the wait for the first question, and the same on every later screen and phase.
    """

    _shown: tuple[object, ...] | None = None

    async def recompose(self) -> None:
        if self.is_attached and self._shown is not None and self._keys_shown() == self._shown:
            return
        await super().recompose()

    def compose(self) -> ComposeResult:
        # Recorded where the keys are read, not before the old ones are removed: a change made
        # during that removal would otherwise be drawn but not remembered, and a later signal
        # with the earlier keys skipped.
        self._shown = self._keys_shown() if self.is_attached else None
        yield from super().compose()

    def _keys_shown(self) -> tuple[object, ...]:
        """What the footer's compose reads that can change while the app runs: the shown bindings,
        whether they are enabled, the command palette's key, and whether the bindings are ready."""
        active = self.screen.active_bindings
        keys = tuple(
            (binding.key, self.app.get_key_display(binding), binding.description, binding.action, enabled, tooltip,
             None if binding.group is None else (binding.group.description, binding.group.compact))
            for _node, binding, enabled, tooltip in active.values()
            if binding.show
        )
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        palette_key = None if palette is None else (palette[1].key, palette[1].description, palette[2])
        return (getattr(self, "_bindings_ready", True), self.show_command_palette, palette_key, keys)
