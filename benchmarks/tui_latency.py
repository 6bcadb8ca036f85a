"""How fast the interview feels: launch to first question, and submit to feedback visible.

Runs the real ``mockint start`` in tmux with the real sentence model, as a person would: keys go in
with ``send-keys``, and the screen is read back with ``capture-pane`` (what a person sees, rather
than the stream of escape codes, in which Textual redraws only the cells that changed). Times:

- launch -> briefing on screen, then Enter -> first question on screen (their sum is "launch to
  first question" with an instant key press); target <= 1.0 s;
- with the model warm, in practice mode: Ctrl+S -> the graded feedback on screen, repeated with
  Ctrl+R (retry puts the answer back in the box) for several samples; target <= 0.5 s.

    .venv/bin/python benchmarks/tui_latency.py [--company pinterest] [--runs 3] [--samples 5]

``--rubrics DIR`` points at another rubrics folder (a pack needs a calibration for the model, or
grading is unavailable and the second number cannot be measured). Needs tmux.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MOCKINT = Path(sys.executable).parent / "mockint"
ANSWER = (
    "Overfitting is when the model memorizes noise in the training data instead of the real pattern. "
    "Training error is low but validation error is much higher. It happens when the model has too much "
    "capacity for the amount of data."
)
FEEDBACK_SHOWN = "retry this question"
"""The status line once the graded feedback is on screen (practice mode)."""


class Terminal:
    """One program in its own tmux server, at a fixed size."""

    def __init__(self, args: list[str], env: dict[str, str], size: tuple[int, int] = (110, 35)) -> None:
        self.socket = f"mockint-bench-{os.getpid()}-{time.monotonic_ns()}"
        # exec: the pane's process is mockint itself, so close() can kill it.
        command = ["env", "-u", "MOCKINT_TEST_ENCODER", *(f"{k}={v}" for k, v in env.items()), *args]
        self.started = time.perf_counter()
        self._tmux("new-session", "-d", "-x", str(size[0]), "-y", str(size[1]), "-s", "bench", "--", *command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "bench")

    def wait_until(self, shown: Callable[[str], bool], what: str, timeout: float = 60.0) -> float:
        """perf_counter seconds at which the screen first satisfied ``shown``."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            screen = self.screen()
            if shown(screen):
                return time.perf_counter()
            time.sleep(0.003)
        raise TimeoutError(f"{what} never appeared; screen:\n{self.screen()}")

    def wait_for(self, pattern: str, timeout: float = 60.0) -> float:
        regex = re.compile(pattern)
        return self.wait_until(lambda screen: bool(regex.search(screen)), repr(pattern), timeout)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "bench", "-l", text)

    def key(self, name: str) -> None:
        self._tmux("send-keys", "-t", "bench", name)

    def close(self) -> None:
        # Killed outright: closing the terminal (SIGHUP) lets mockint save and exit on its own, which
        # takes until the model has loaded; the next launch must not share the CPU with it.
        pid = self._tmux("display-message", "-p", "-t", "bench", "#{pane_pid}").strip()
        if pid.isdigit():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def _env(home: str, rubrics: str | None) -> dict[str, str]:
    env = {"MOCKINT_HOME": home, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    if rubrics:
        env["MOCKINT_RUBRICS"] = rubrics
    return env


def first_question(company: str, rubrics: str | None, first_prompt: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as home:
        term = Terminal([str(MOCKINT), "start", "--company", company], _env(home, rubrics))
        try:
            briefing_at = term.wait_for(r"Press Enter to begin")
            pressed = time.perf_counter()
            term.key("Enter")
            question_at = term.wait_for(re.escape(first_prompt[:30]))
            return briefing_at - term.started, question_at - pressed
        finally:
            term.close()


def submit_to_feedback(company: str, rubrics: str | None, samples: int) -> list[float]:
    timings: list[float] = []
    with tempfile.TemporaryDirectory() as home:
        term = Terminal([str(MOCKINT), "start", "--company", company, "--mode", "practice"], _env(home, rubrics))
        try:
            term.wait_for(r"Press Enter to begin")
            term.key("Enter")
            term.wait_for(r"grader ready|grading unavailable", timeout=120)
            if "grading unavailable" in term.screen():
                raise SystemExit("grading is unavailable:\n" + term.screen())
            term.type(ANSWER)
            term.wait_for(re.escape(ANSWER[-20:]))
            for index in range(samples):
                pressed = time.perf_counter()
                term.key("C-s")
                shown = term.wait_until(
                    lambda screen: FEEDBACK_SHOWN in screen and re.search(r"Grade \d/4", screen) is not None,
                    "the graded feedback",
                )
                timings.append(shown - pressed)
                if index < samples - 1:
                    term.key("C-r")  # the answer goes back in the box
                    term.wait_until(lambda screen: FEEDBACK_SHOWN not in screen and "attempt" in screen, "the retry")
                    time.sleep(0.3)
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
    if shutil.which("tmux") is None:
        parser.error("needs tmux on the PATH")

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

    feedback = submit_to_feedback(args.company, args.rubrics, args.samples)
    median = statistics.median(feedback)
    print(f"submit -> feedback visible (warm) median {median:.3f} s   target <= 0.5 s  "
          f"{'OK' if median <= 0.5 else 'OVER'}  ({', '.join(f'{g:.3f}' for g in feedback)})")


if __name__ == "__main__":
    main()
