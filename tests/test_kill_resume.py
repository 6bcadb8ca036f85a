"""Kill a real ``mockint start`` with SIGKILL after an answer is submitted; ``mockint resume`` finds it.

The app runs in a pseudo-terminal, driven by keystrokes as a person would drive it. The database
is the synchronisation point: we wait for the answer row, not for a guessed delay. The grader is
the fake encoder (``MOCKINT_TEST_ENCODER=fake``, the CLI's test-only hook) so the test takes
seconds; tests/tui/test_real_model.py drives the app with the real model.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.engine.loader import load_company
from grader.interview import Interview
from grader.store import Store
from tests.tui.factory import packs_dir

REPO = Path(__file__).resolve().parents[1]
MOCKINT = Path(sys.executable).parent / "mockint"
ANSWER = "The model memorizes noise in the training data."
CTRL_S, CTRL_Q = "\x13", "\x11"
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07")

pytestmark = pytest.mark.skipif(not MOCKINT.exists(), reason="the mockint script is not installed")


class Terminal:
    """A process on a pseudo-terminal of a fixed size; output is drained so the app never blocks."""

    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int] = (110, 35)) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.proc = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def screen_text(self) -> str:
        return ANSI.sub("", self.output.decode("utf-8", errors="replace"))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.master)


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MOCKINT_HOME=str(home),
        MOCKINT_RUBRICS=str(packs_dir()),
        MOCKINT_TEST_ENCODER="fake",
        PYTHONPATH=str(REPO),
        TERM="xterm-256color",
        COLORTERM="truecolor",
    )
    env.pop("TEXTUAL", None)
    return env


def _turns(home: Path) -> list:
    db = home / "mockint.db"
    if not db.exists():
        return []
    with Store(db) as store:
        sessions = store.sessions()
        return store.turns(sessions[0].id) if sessions else []


def test_sigkill_after_submit_then_resume_continues_from_the_next_step(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env(home)

    term = Terminal([str(MOCKINT), "start", "--company", "acme"], env)
    try:
        wait_for(lambda: term.screen_text().count("Press Enter to begin"), "the briefing")
        term.type("\r")
        wait_for(lambda: any(t.kind == "question" for t in _turns(home)), "the first question")
        term.type(ANSWER)
        term.type(CTRL_S)
        wait_for(lambda: any(t.kind == "answer" for t in _turns(home)), "the answer in the database")
        os.kill(term.proc.pid, signal.SIGKILL)
        assert term.proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        term.close()

    with Store(home / "mockint.db") as store:
        session = store.latest_unfinished()
        assert session is not None, "a killed session stays resumable"
        turns = store.turns(session.id)
        answers = [t for t in turns if t.kind == "answer"]
        assert [a.text for a in answers] == [ANSWER]
        interview = Interview.resume(load_company("acme", packs_dir()), session, turns,
                                     store.latest_grades(session.id))
        # Either the grade landed before the kill (the probe is next) or it did not (the answer
        # waits to be graded on resume); never is the answered question asked again as new.
        if interview.pending_answer is not None:
            assert interview.pending_answer.text == ANSWER
        else:
            assert interview.current is not None and interview.current.kind == "probe"

    term = Terminal([str(MOCKINT), "resume"], env)
    try:
        wait_for(lambda: "memorizes noise" in term.screen_text(), "the earlier answer on screen")
        wait_for(lambda: any(t.kind == "probe" for t in _turns(home)), "the next step (a probe)")
        with Store(home / "mockint.db") as store:
            assert store.ungraded_answers(session.id) == [], "the answer from before the kill is graded"
        term.type(CTRL_Q)
        wait_for(lambda: "Quit the interview?" in term.screen_text(), "the quit confirmation")
        term.type("y")
        assert term.proc.wait(timeout=20) == 0
        assert f"Continue: mockint resume {session.id}" in term.screen_text()
    finally:
        term.close()

    turns = _turns(home)
    assert [t.kind for t in turns].count("probe") == 1, "resume must not ask the probe twice"
    assert [t.kind for t in turns].count("answer") == 1
