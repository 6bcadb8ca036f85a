"""Pilot helpers shared by the TUI tests."""

from __future__ import annotations

from rich.console import Console, RenderableType
from textual.pilot import Pilot
from textual.widgets import TextArea

from grader.tui.app import MockintApp


async def settle(pilot: Pilot) -> None:
    """Wait until the grader has loaded and every queued answer is graded and its callback ran."""
    app = pilot.app
    assert isinstance(app, MockintApp)
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.grader_state != "loading" and not app.grading_pending:
            break
    await pilot.pause()


async def begin(pilot: Pilot) -> None:
    """From the briefing to the first question, with the grader warm."""
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)


async def type_text(pilot: Pilot, text: str) -> None:
    """Type into the answer box as a person would (Enter for each newline)."""
    box = pilot.app.screen.query_one("#answer", TextArea)
    assert box.has_focus, "the answer box should have the focus while answering"
    for index, line in enumerate(text.split("\n")):
        if index:
            await pilot.press("enter")
        box.insert(line)
    await pilot.pause()


async def answer(pilot: Pilot, text: str) -> None:
    await type_text(pilot, text)
    await pilot.press("ctrl+s")
    await settle(pilot)


def transcript_texts(app: MockintApp) -> list[tuple[str, str]]:
    """(role, text) of every chat bubble on the current screen."""
    from grader.tui.widgets import TurnView

    return [(view.role, view.text) for view in app.screen.query(TurnView)]


def plain(renderable: RenderableType, width: int = 100) -> str:
    """What a Rich renderable says, without styles, at a fixed width."""
    console = Console(width=width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


async def skip(pilot: Pilot) -> None:
    """Ctrl+N, then confirm the skip."""
    await pilot.press("ctrl+n")
    await pilot.pause()
    await pilot.press("y")
    await settle(pilot)


async def next_question(pilot: Pilot) -> None:
    """Practice mode: from the feedback to the next question (Enter)."""
    await pilot.press("enter")
    await settle(pilot)


async def quit_confirmed(pilot: Pilot) -> None:
    """Ctrl+Q, then confirm."""
    await pilot.press("ctrl+q")
    await pilot.pause()
    await pilot.press("y")
    await pilot.pause()
