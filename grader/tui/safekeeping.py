"""Keeping the candidate's words when the database will not take them, and showing stored text safely.

Screens call ``keep_words`` around every write: the store already waits for the lock and retries
(grader.store.database); if the write still fails, the words go to the recovery file beside the
database, the screen says what happened and how to fix it, and the app remembers it so the exit
message never claims "saved" when something was not.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from grader.engine.result import GradeResult
from grader.safe_text import strip_control
from grader.store import StoreWriteError, TurnRecord

if TYPE_CHECKING:
    from grader.tui.app import MockintApp

T = TypeVar("T")

DRAFT_DEBOUNCE_SECONDS = 1.0
"""The draft is saved this long after the candidate stops typing (and on quit, SIGHUP, SIGTERM)."""


@dataclasses.dataclass
class UnsavedWords:
    """The last write that failed: what it was, why, and where a copy of the words went (if anywhere)."""

    what: str
    error: StoreWriteError
    recovery_file: Path | None


def keep_words(app: MockintApp, write: Callable[[], T], *, words: str | None, what: str,
               notify: bool = True) -> T | None:
    """Run ``write``; on ``StoreWriteError`` copy ``words`` to the recovery file, tell the user, return None.

    ``app.unsaved`` holds the failure until a later write of the candidate's words succeeds.
    """
    try:
        result = write()
    except StoreWriteError as exc:
        copied: Path | None = None
        copy_error = ""
        if words and words.strip():
            try:
                copied = app.store.save_to_recovery(session_id=app.session_id or "?", what=what, text=words,
                                                    reason=str(exc))
            except OSError as os_error:
                copy_error = os_error.strerror or str(os_error)
        app.unsaved = UnsavedWords(what=what, error=exc, recovery_file=copied)
        if notify:
            where = f"A copy is in {copied}." if copied else (
                f"Copying it to the recovery file failed too ({copy_error}): copy it yourself now." if words else "")
            app.notify(f"Your {what} was NOT saved: {exc.detail}.\n{where}\nTo fix: {exc.fix}.\n"
                       "Your text stays in the box; press Ctrl+S to try again.",
                       title="Not saved", severity="error", timeout=30)
        return None
    if words is not None:
        app.unsaved = None
    return result


def exit_message(session_id: str, finished: bool | None, unsaved: UnsavedWords | None) -> str:
    """The one line printed after the app closes; "saved" only when everything was."""
    if unsaved is not None:
        copy = f"a copy is in {unsaved.recovery_file}" if unsaved.recovery_file else "no copy could be written"
        return (f"Session {session_id}: your {unsaved.what} was NOT saved ({unsaved.error.detail}); {copy}. "
                f"To fix: {unsaved.error.fix}. Then: mockint resume {session_id}")
    if finished is None:
        return f"Session {session_id}: the database could not be read at exit; try: mockint resume {session_id}"
    if finished:
        return f"Session {session_id} finished. Review: mockint review {session_id}"
    return f"Session {session_id} saved. Continue: mockint resume {session_id}"


# -- showing stored text ---------------------------------------------------------------------------------


def _strip_strings(value: Any) -> Any:
    if isinstance(value, str):
        return strip_control(value)
    if isinstance(value, list):
        return [_strip_strings(item) for item in value]
    if isinstance(value, dict):
        return {key: _strip_strings(item) for key, item in value.items()}
    return value


def for_display(turns: list[TurnRecord], grades: dict[int, GradeResult]
                ) -> tuple[list[TurnRecord], dict[int, GradeResult]]:
    """Turns and grades with terminal control characters removed from every text a screen may show.

    A stored answer may hold escape sequences (pasted, or typed into another tool); shown raw they
    would rename the window or clear the screen.
    """
    clean_turns = [dataclasses.replace(turn, text=strip_control(turn.text)) for turn in turns]
    clean_grades = {turn_id: GradeResult.from_dict(_strip_strings(grade.to_dict()))
                    for turn_id, grade in grades.items()}
    return clean_turns, clean_grades
