"""The command palette's mockint commands (Ctrl+P): jump to a question, export, switch theme, help.

A Textual command ``Provider``: ``discover`` lists the commands when the palette opens empty,
``search`` ranks them against what the candidate types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from grader.tui.app import MockintApp

Command = tuple[str, str, Callable[[], object]]


class MockintCommands(Provider):
    """Commands that depend on the screen: the questions asked so far are jump targets."""

    @property
    def mockint(self) -> MockintApp:
        return self.app  # type: ignore[return-value]

    def _commands(self) -> Iterator[Command]:
        from grader.tui.widgets import Transcript, TurnView

        app = self.mockint
        yield ("Keys: show help", "Every key that works on this screen (F1)", app.action_help)
        yield ("Theme: switch light / dark", "Swap between the dark and the light theme", app.action_toggle_theme)
        if app.session_id is not None and app.purpose != "history":
            yield ("Export this session as Markdown", "Write the transcript and report to a .md file",
                   app.action_export_markdown)
        transcripts = list(self.screen.query(Transcript))
        if not transcripts:
            return
        transcript = transcripts[0]
        questions = [view for view in transcript.query(TurnView) if view.kind == "question"]
        for number, view in enumerate(questions, start=1):
            prompt = " ".join(view.text.split())
            yield (f"Jump to question {number}: {prompt}", "Scroll the transcript to where it was asked",
                   partial(self._jump, transcript, view))

    def _jump(self, transcript: object, view: object) -> None:
        from textual.widgets import TabbedContent

        for tabs in self.screen.query(TabbedContent):
            tabs.active = "transcript"  # review: the question is in the transcript tab
        transcript.scroll_to_widget(view, top=True, animate=False)  # type: ignore[attr-defined]
        transcript.focus()  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
