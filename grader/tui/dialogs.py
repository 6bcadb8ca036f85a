"""Small modal screens: confirmations and the key help.

Kept apart from ``screens.py`` so the interview screens stay about the interview.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


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


class HelpScreen(ModalScreen[None]):
    """F1 (or ? outside the answer box): the keys that work right now, the focused widget's first.

    Built from the bindings active when it was opened (after posting's help screen), so it can
    never list a key that does nothing here or miss one that does.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,question_mark,q", "dismiss", "Close help")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Label("Keys", id="help-title")
            for title, keys in self.sections:
                table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
                table.add_column(style="bold", no_wrap=True)
                table.add_column(ratio=1)
                for key, description in keys:
                    table.add_row(key, description)
                yield Static(Text(title, style="bold underline"), classes="help-section")
                yield Static(table)
            yield Static(
                "Ctrl+P opens the command palette: jump to a question, export the session, switch theme.\n"
                "Escape closes this help.",
                id="help-footer",
            )


def help_sections(app: App[object]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The active keys grouped by where they come from: focused widget, screen, then the app."""
    focused = app.focused
    screen = app.screen
    groups: dict[str, list[tuple[str, str]]] = {}
    seen: set[tuple[str, str]] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or not active.enabled:
            continue
        node = active.node
        if node is focused:
            where = f"Focused: {_widget_name(node)}"
        elif node is screen:
            where = "This screen"
        else:
            where = "Everywhere"
        description = binding.description
        if binding.action == "app.command_palette" or binding.action == "command_palette":
            description = "Command palette: jump to a question, export, theme"
        entry = (app.get_key_display(binding), description)
        if (where, entry[0]) in seen:
            continue
        seen.add((where, entry[0]))
        groups.setdefault(where, []).append(entry)
    # The screen's own keys first; the focused widget's (the answer box has dozens) last.
    order = sorted(groups, key=lambda name: {"This screen": 0, "Everywhere": 1}.get(name, 2))
    return [(name, groups[name]) for name in order]


WIDGET_NAMES = {"TextArea": "the answer box", "Transcript": "the transcript", "ReportView": "the report",
                "DataTable": "the session list"}


def _widget_name(widget: object) -> str:
    name = type(widget).__name__
    return WIDGET_NAMES.get(name, name)
