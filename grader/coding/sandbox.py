"""Run untrusted Python in a separate, limited process and collect one raw result per test.

What happens on every run (docs/sandbox.md says what this does and does not protect against):

1. An empty temporary directory is created (mode 700) and becomes the working directory.
2. ``python -I -S -c <launcher>`` starts in a new session (its own process group) with a minimal
   environment: ``PATH``, ``LANG``, ``TMPDIR`` only; no ``HOME``, no ``MOCKINT_HOME``. ``-I -S``:
   no user site-packages, no ``PYTHON*`` variables, no site-packages at all (the standard library only).
3. The launcher (``grader/coding/launcher.py``) confines itself (network and mount namespaces with
   everything but the work directory read-only, rlimits, no capabilities, a system-call filter)
   and ``execve``s the harness, so the limits hold before candidate code runs.
4. This side feeds the harness the source and the tests' arguments on standard input, then watches:
   a wall-clock watchdog per test, a cap on standard output plus error, a cap on result bytes. Past
   any of them the whole process group is killed with SIGKILL.
5. Afterwards the process group is killed again (nothing may outlive a run) and the directory removed.

No Textual, no SQLite here: the runner is used by the CLI, by ``rubric check`` and by the TUI's
worker thread alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.coding.limits import SandboxLimits

HERE = Path(__file__).parent
CPU_POLL_SECONDS = 0.1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SANDBOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}

RawStatus = str
"""``returned``, ``error``, ``memory``, ``timeout``, ``output``, ``crashed`` or ``not-run``."""


@dataclass
class RawResult:
    """What happened to one test inside the sandbox, before the return value is judged."""

    index: int
    status: RawStatus = "not-run"
    message: str = ""
    value: str | None = None
    """The return value as JSON text (``status == "returned"`` only)."""
    printed: str = ""
    printed_size: int = 0
    wall_ms: float | None = None
    cpu_ms: float | None = None


@dataclass
class SandboxRun:
    results: list[RawResult]
    error: str | None = None
    """One line when the code never reached the tests (syntax error, crash at import, limits)."""
    error_kind: str | None = None
    output: str = ""
    """The first bytes the process wrote to standard output or error outside the tests."""
    output_size: int = 0
    protections: dict[str, bool] = field(default_factory=dict)
    """Which confinements the launcher could apply on this machine (see docs/sandbox.md)."""
    wall_seconds: float = 0.0


def _source(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


class _Watch:
    """Reads the process's pipes, enforces the wall clock and output caps, collects results."""

    def __init__(self, proc: subprocess.Popen[bytes], result_fd: int, tests: int, limits: SandboxLimits) -> None:
        self.proc = proc
        self.limits = limits
        self.run = SandboxRun(results=[RawResult(index=i) for i in range(tests)])
        self.current: int | None = None
        self.stop_reason: tuple[str, str] | None = None  # (kind, message) when this side killed it
        self.done = False
        self.loaded = False
        self._buffer = b""
        self._result_bytes = 0
        self._output = bytearray()
        self._selector = selectors.DefaultSelector()
        assert proc.stdout is not None
        self._selector.register(proc.stdout.fileno(), selectors.EVENT_READ, "output")
        self._selector.register(result_fd, selectors.EVENT_READ, "results")
        self._open = 2
        self.deadline = time.monotonic() + limits.wall_seconds_per_test()
        self._cpu_mark = 0.0

    def loop(self) -> None:
        while self._open and self.stop_reason is None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self._timeout()
                break
            if self._over_cpu():
                break
            for key, _ in self._selector.select(timeout=min(remaining, CPU_POLL_SECONDS)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    self._selector.unregister(key.fd)
                    self._open -= 1
                elif key.data == "output":
                    self._on_output(chunk)
                else:
                    self._on_results(chunk)
        self._selector.close()

    def _over_cpu(self) -> bool:
        """Stop a test (or the loading) as soon as it has used its CPU time, not at the wall clock."""
        used = process_cpu_seconds(self.proc.pid)
        if used is None or used - self._cpu_mark <= self.limits.cpu_seconds_per_test:
            return False
        what = "loading solution.py" if self.current is None else "the test"
        self._kill("timeout", f"stopped: {what} used its {self.limits.cpu_seconds_per_test:g} s of CPU time; "
                              "an endless loop, or too slow")
        return True

    def _kill(self, kind: str, message: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = (kind, message)
        kill_group(self.proc)

    def _timeout(self) -> None:
        seconds = self.limits.wall_seconds_per_test()
        if self.current is None:
            self._kill("timeout", f"stopped: solution.py did not finish loading within {seconds:g} s")
        else:
            self._kill("timeout", f"stopped: no result after {seconds:g} s (wall-clock limit); an endless loop?")

    def _on_output(self, chunk: bytes) -> None:
        self.run.output_size += len(chunk)
        room = self.limits.kept_output_bytes - len(self._output)
        if room > 0:
            self._output += chunk[:room]
        if self.run.output_size > self.limits.output_bytes:
            self._kill("output", f"stopped: printed more than {_size(self.limits.output_bytes)} of output")

    def _on_results(self, chunk: bytes) -> None:
        self._result_bytes += len(chunk)
        if self._result_bytes > self.limits.result_bytes:
            self._kill("output", f"stopped: sent back more than {_size(self.limits.result_bytes)} of results")
            return
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # the code wrote into the result pipe itself; its lines are ignored
            if isinstance(event, dict):
                self._on_event(event)

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        per_test = self.limits.wall_seconds_per_test()
        if kind == "sandbox":
            self.run.protections = {k: bool(v) for k, v in event.items() if k != "event"}
        elif kind == "error":
            self.run.error_kind = str(event.get("kind", "error"))
            self.run.error = str(event.get("message", "error"))[:500]
        elif kind == "loaded":
            self.loaded = True
        elif kind == "start" and _valid_index(event.get("index"), self.run.results):
            self.current = int(event["index"])
            self.deadline = time.monotonic() + per_test
            self._cpu_mark = process_cpu_seconds(self.proc.pid) or 0.0
        elif kind == "result" and _valid_index(event.get("index"), self.run.results):
            result = self.run.results[int(event["index"])]
            result.status = str(event.get("status", "error"))
            result.message = str(event.get("message", ""))[:500]
            value = event.get("value")
            result.value = value if isinstance(value, str) else None
            result.printed = str(event.get("printed", ""))
            result.printed_size = int(event.get("printed_size", 0))
            result.wall_ms = _number(event.get("wall_ms"))
            result.cpu_ms = _number(event.get("cpu_ms"))
            cpu_limit_ms = self.limits.cpu_seconds_per_test * 1000
            if result.cpu_ms is not None and result.cpu_ms > cpu_limit_ms:
                result.status = "timeout"
                result.message = (f"took {result.cpu_ms / 1000:.2f} s of CPU time; the limit is "
                                  f"{self.limits.cpu_seconds_per_test:g} s")
            self.current = None
            self.deadline = time.monotonic() + per_test
        elif kind == "done":
            self.done = True

    def finish(self, returncode: int) -> SandboxRun:
        run = self.run
        run.output = self._output.decode("utf-8", "replace")
        failed_at = self.current
        if self.stop_reason is not None:
            kind, message = self.stop_reason
        elif self.done or run.error is not None:
            return run
        elif returncode < 0:
            kind, message = _signal_verdict(-returncode, self.limits)
        else:
            kind, message = "crashed", f"the process exited with status {returncode} before the tests finished"
        if failed_at is not None:
            run.results[failed_at].status = kind
            run.results[failed_at].message = message
        elif not self.loaded:
            run.error_kind, run.error = kind, message
        else:
            # Between tests: blame the next one that did not run.
            pending = next((r for r in run.results if r.status == "not-run"), None)
            if pending is not None:
                pending.status, pending.message = kind, message
        return run


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used, from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _valid_index(value: object, results: list[RawResult]) -> bool:
    return isinstance(value, int) and 0 <= value < len(results)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _signal_verdict(signum: int, limits: SandboxLimits) -> tuple[str, str]:
    if signum == signal.SIGXCPU:
        return "timeout", "stopped by the CPU time limit"
    if signum == signal.SIGKILL:
        # Not ours (we record our own kills): the CPU hard limit, or the kernel out of memory.
        return "crashed", "killed by the system (CPU hard limit or out of memory)"
    name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
    if signum == signal.SIGSEGV:
        return "crashed", f"crashed with {name} (often a memory or recursion limit)"
    return "crashed", f"killed by signal {name}"


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the run's whole process group (the launcher made it a session leader)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_function(source: str, function: str, tests: list[list[Any]], limits: SandboxLimits) -> SandboxRun:
    """Run ``function(*args)`` for each argument list in a fresh sandboxed process."""
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="mockint-sandbox-")
    os.chmod(workdir, 0o700)
    read_fd, write_fd = os.pipe()
    env = {**SANDBOX_ENV, "TMPDIR": workdir}
    config = {
        "workdir": workdir,
        "result_fd": write_fd,
        "python": sys.executable,
        "harness": _source("harness.py"),
        "env": env,
        "limits": {
            "cpu_seconds": limits.cpu_budget_seconds(len(tests)),
            "memory_bytes": limits.memory_bytes,
            "file_size_bytes": limits.file_size_bytes,
            "open_files": limits.open_files,
            "processes": limits.processes,
        },
    }
    payload = json.dumps({"source": source, "function": function, "tests": tests, "result_fd": write_fd})
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _source("launcher.py"), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            env=env,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
    except BaseException:
        os.close(read_fd)
        os.close(write_fd)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    os.close(write_fd)
    feeder = threading.Thread(target=_feed, args=(proc, payload.encode()), daemon=True)
    feeder.start()
    watch = _Watch(proc, read_fd, len(tests), limits)
    try:
        watch.loop()
        try:
            returncode = proc.wait(timeout=limits.wall_slack_seconds)
        except subprocess.TimeoutExpired:
            watch._kill("timeout", "stopped: the process did not exit after its output ended")
            returncode = proc.wait()
    finally:
        kill_group(proc)  # nothing the code started may outlive the run
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        os.close(read_fd)
        if proc.stdout is not None:
            proc.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)
    run = watch.finish(returncode)
    run.wall_seconds = time.monotonic() - started
    return run


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    with contextlib.suppress(OSError):  # the process may die before it reads
        proc.stdin.write(data)
    with contextlib.suppress(OSError):
        proc.stdin.close()
