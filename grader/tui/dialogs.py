"""Small modal screens: the skip confirmation and the key help.

Kept apart from ``screens.py`` so the interview screens stay about the interview.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question: y or the first button answer True; n, Escape or the second answer False.

    The safe answer (no) has the focus, so a stray Enter never does the risky thing.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    YES_LABEL = "Yes (y)"
    YES_VARIANT: ClassVar[Literal["error", "warning"]] = "error"
    NO_LABEL = "No (n)"

    def question(self) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Grid(id="confirm"):
            yield Label(Text(self.question()), id="confirm-question")
            yield Button(self.YES_LABEL, variant=self.YES_VARIANT, id="yes")
            yield Button(self.NO_LABEL, variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ConfirmSkip(ConfirmDialog):
    """Ctrl+N asks first: a skip counts as grade 0 and cannot be undone. The answer is True to skip."""

    YES_LABEL = "Skip (y)"
    YES_VARIANT = "warning"
    NO_LABEL = "Keep answering (n)"

    def __init__(self, prompt: str, *, has_draft: bool) -> None:
        super().__init__()
        self.prompt = prompt
        self.has_draft = has_draft

    def question(self) -> str:
        short = self.prompt if len(self.prompt) <= 90 else self.prompt[:87].rsplit(" ", 1)[0] + "…"
        kept = "\nWhat you typed is kept in the transcript's notes." if self.has_draft else ""
        return f"Skip this question?\n\n“{short}”\n\nIt counts as grade 0 in the report.{kept}"
