"""SIGKILL a real ``mockint start`` while code is in the editor, never run or saved by hand; resume restores it.

The editor saves its content half a second after a change, so the kill comes after that save
is in the database and before any run, submit or quit. Same pseudo-terminal harness as
tests/test_kill_resume.py.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from grader.store import Store
from tests.test_kill_resume import MOCKINT, Terminal, _env, _turns, pytestmark, wait_for  # noqa: F401

QUESTION_ID = "codeco.coding.top-k-frequent"
TYPED = "# half-written idea: count with a dict"


def _draft(home: Path) -> str | None:
    db = home / "mockint.db"
    if not db.exists():
        return None
    with Store(db) as store:
        sessions = store.sessions()
        return store.code_draft(sessions[0].id, QUESTION_ID) if sessions else None


def test_sigkill_with_unsaved_code_in_the_editor_then_resume_restores_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home)
    term = Terminal([str(MOCKINT), "start", "--company", "codeco", "--rounds", "coding"], env)
    try:
        wait_for(lambda: term.screen_text().count("Press Enter to begin"), "the briefing")
        term.type("\r")
        wait_for(lambda: any(t.kind == "question" for t in _turns(home)), "the coding question")
        wait_for(lambda: "1  def top_k_frequent(nums" in term.screen_text(), "the editor with the starter code")
        time.sleep(1.0)  # the editor takes the focus once mounted; keys sent before that go elsewhere
        term.type(TYPED)
        wait_for(lambda: TYPED in (_draft(home) or ""), "the draft in the database")
        os.kill(term.proc.pid, signal.SIGKILL)
        assert term.proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        term.close()

    with Store(home / "mockint.db") as store:
        session = store.latest_unfinished()
        assert session is not None
        assert store.code_runs(session.id) == [], "nothing was run: only the draft kept the code"

    term = Terminal([str(MOCKINT), "resume"], env)
    try:
        wait_for(lambda: "half-written idea" in term.screen_text(), "the typed code back in the editor")
        assert [t.kind for t in _turns(home)].count("question") == 1, "the question is not asked again"
        term.type("\x11")  # Ctrl+Q
        # Either line of the dialog: on a loaded machine Textual may draw it in pieces.
        wait_for(lambda: "Quit the interview?" in term.screen_text() or "Quit (y)" in term.screen_text(),
                 "the quit confirmation", timeout=60)
        term.type("y")
        assert term.proc.wait(timeout=20) == 0
    finally:
        term.close()
    assert TYPED in (_draft(home) or "")
