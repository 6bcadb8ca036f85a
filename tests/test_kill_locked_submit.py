"""Kill ``mockint start`` while it waits for a locked database to take a submitted answer.

The answer must survive: either in the database (the write got through) or in the recovery file
beside it (the next mockint that opens the database moves it there from the pending file the
killed process wrote before waiting). Driven through a real pseudo-terminal, like a person.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from grader.store import Store
from grader.store.recovery import RECOVERY_FILENAME
from tests.test_kill_resume import CTRL_S, MOCKINT, REPO, Terminal, _env, _turns, wait_for

ANSWER = "Overfitting: the model memorizes noise, so validation error climbs while training error falls."

pytestmark = pytest.mark.skipif(not MOCKINT.exists(), reason="the mockint script is not installed")


@pytest.mark.parametrize("kill_signal", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_tui_during_a_locked_database_submit_keeps_the_answer(tmp_path: Path, kill_signal) -> None:
    home = tmp_path / "home"
    env = _env(home)
    term = Terminal([str(MOCKINT), "start", "--company", "acme"], env)
    lock = None
    try:
        wait_for(lambda: "Press Enter to begin" in term.screen_text(), "the briefing")
        term.type("\r")
        wait_for(lambda: any(t.kind == "question" for t in _turns(home)), "the first question")
        lock = sqlite3.connect(str(home / "mockint.db"), timeout=0)
        lock.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        term.type(ANSWER)
        term.type(CTRL_S)
        wait_for(lambda: list(home.glob(".mockint.db.*.pending")), "the answer waiting for the lock")
        os.kill(term.proc.pid, kill_signal)
        term.proc.wait(timeout=30)
    finally:
        if lock is not None:
            lock.rollback()
            lock.close()
        term.close()

    # The next mockint to open the database (here `history`) finds what the killed one left.
    result = subprocess.run([str(MOCKINT), "history"], env=env, cwd=REPO, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    with Store(home / "mockint.db") as store:
        session = store.sessions()[0]
        in_database = ANSWER in [t.text for t in store.turns(session.id) if t.kind == "answer"]
    recovery = home / RECOVERY_FILENAME
    in_recovery = recovery.exists() and ANSWER in recovery.read_text()
    assert in_database or in_recovery
    assert not list(home.glob(".mockint.db.*.pending"))
    if in_recovery:
        assert "was put in" in result.stderr.decode()
