"""How fast the interview feels: launch to first question, and submit to grade visible.

Runs the real ``mockint start`` in a pseudo-terminal with the real sentence model, as a person
would, and times what appears on the screen:

- launch -> briefing on screen, then Enter -> first question on screen (their sum is "launch to
  first question" with an instant key press); target <= 1.0 s;
- with the model warm, in practice mode: Ctrl+S -> the grade panel on screen, repeated with
  Ctrl+R (retry puts the answer back in the box) for several samples; target <= 0.3 s.

    .venv/bin/python benchmarks/tui_latency.py [--company pinterest] [--runs 3] [--samples 5]

``--rubrics DIR`` points at another rubrics folder (a pack needs a calibration for the model, or
grading is unavailable and the second number cannot be measured).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MOCKINT = Path(sys.executable).parent / "mockint"
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\x1b[=>]|\x1b\][^\x07]*\x07")
ANSWER = (
    "Overfitting is when the model memorizes noise in the training data instead of the real pattern. "
    "Training error is low but validation error is much higher. It happens when the model has too much "
    "capacity for the amount of data."
)


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int] = (110, 35)) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.output.extend(chunk)

    def mark(self) -> int:
        with self.lock:
            return len(self.output)

    def text(self, since: int = 0) -> str:
        with self.lock:
            raw = bytes(self.output[since:])
        return ANSI.sub("", raw.decode("utf-8", errors="replace"))

    def wait_for(self, pattern: str, since: int = 0, timeout: float = 60.0) -> float:
        """Seconds (perf_counter) at which the pattern first showed up after ``since``."""
        regex = re.compile(pattern)
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if regex.search(self.text(since)):
                return time.perf_counter()
            time.sleep(0.002)
        raise TimeoutError(f"{pattern!r} never appeared; screen: {self.text(since)[-400:]!r}")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.master)


def _env(home: str, rubrics: str | None) -> dict[str, str]:
    env = dict(os.environ, MOCKINT_HOME=home, TERM="xterm-256color", COLORTERM="truecolor")
    env.pop("MOCKINT_TEST_ENCODER", None)  # the real model, always
    if rubrics:
        env["MOCKINT_RUBRICS"] = rubrics
    return env


def first_question(company: str, rubrics: str | None, first_prompt: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as home:
        term = Terminal([str(MOCKINT), "start", "--company", company], _env(home, rubrics))
        try:
            briefing_at = term.wait_for(r"Press Enter to begin")
            mark = term.mark()
            pressed = time.perf_counter()
            term.type("\r")
            question_at = term.wait_for(re.escape(first_prompt[:30]), since=mark)
            return briefing_at - term.started, question_at - pressed
        finally:
            term.close()


def submit_to_grade(company: str, rubrics: str | None, samples: int) -> list[float]:
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        term = Terminal([str(MOCKINT), "start", "--company", company, "--mode", "practice"], _env(home, rubrics))
        try:
            term.wait_for(r"Press Enter to begin")
            term.type("\r")
            term.wait_for(r"grader ready|grading unavailable", timeout=120)
            if "grading unavailable" in term.text():
                raise SystemExit("grading is unavailable: " + term.text()[-300:])
            term.type(ANSWER)
            time.sleep(0.3)
            for index in range(samples):
                mark = term.mark()
                pressed = time.perf_counter()
                term.type("\x13")  # Ctrl+S
                shown = term.wait_for(r"Grade \d/4", since=mark)
                timings.append(shown - pressed)
                if index < samples - 1:
                    mark = term.mark()
                    term.type("\x12")  # Ctrl+R: the answer goes back in the box
                    term.wait_for(r"attempt \d", since=mark)
                    time.sleep(0.2)
        finally:
            term.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--company", default="pinterest")
    parser.add_argument("--rubrics", help="rubrics folder (default: the repository's rubrics/)")
    parser.add_argument("--runs", type=int, default=3, help="launches to time")
    parser.add_argument("--samples", type=int, default=5, help="graded submits to time")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from grader.engine.loader import load_company

    pack = load_company(args.company, Path(args.rubrics) if args.rubrics else None)
    first_prompt = pack.ordered_questions()[0].prompt

    launches = [first_question(args.company, args.rubrics, first_prompt) for _ in range(args.runs)]
    briefing = statistics.median(b for b, _ in launches)
    enter = statistics.median(q for _, q in launches)
    total = statistics.median(b + q for b, q in launches)
    print(f"launch -> briefing on screen      median {briefing:.3f} s  ({', '.join(f'{b:.3f}' for b, _ in launches)})")
    print(f"Enter -> first question on screen median {enter:.3f} s")
    print(f"launch -> first question          median {total:.3f} s   target <= 1.0 s  "
          f"{'OK' if total <= 1.0 else 'OVER'}")

    grades = submit_to_grade(args.company, args.rubrics, args.samples)
    median = statistics.median(grades)
    print(f"submit -> grade visible (warm)    median {median:.3f} s   target <= 0.3 s  "
          f"{'OK' if median <= 0.3 else 'OVER'}  ({', '.join(f'{g:.3f}' for g in grades)})")


if __name__ == "__main__":
    main()
