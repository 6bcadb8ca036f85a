"""The sandbox's guarantees, one by one, on tiny functions with short limits."""

from __future__ import annotations

import json
import os
import sys

import pytest

from grader.coding.limits import SandboxLimits
from grader.coding.sandbox import run_function

FAST = SandboxLimits(cpu_seconds_per_test=1.0)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="namespaces and seccomp are Linux's")


def run_one(source: str, args: list | None = None, limits: SandboxLimits = FAST):
    run = run_function(source, "f", [args or [1]], limits)
    return run, run.results[0]


def returned(source: str):
    run, result = run_one(source)
    assert result.status == "returned", (run.error, result.message)
    return json.loads(result.value or "null")


def test_returns_plain_data_with_timings():
    _, result = run_one("def f(x):\n    return (x, {2, 1})\n")
    assert json.loads(result.value or "") == [1, [1, 2]]
    assert result.wall_ms is not None and result.cpu_ms is not None


def test_environment_is_minimal_and_the_directory_empty(monkeypatch):
    monkeypatch.setenv("MOCKINT_HOME", "/somewhere/secret")
    env, cwd, listing = returned("import os\ndef f(x):\n    return [dict(os.environ), os.getcwd(), os.listdir('.')]\n")
    assert "MOCKINT_HOME" not in env and "HOME" not in env
    assert set(env) <= {"PATH", "LANG", "LC_ALL", "TMPDIR"}
    assert listing == [] and cwd != os.getcwd()
    assert not os.path.exists(cwd), "the work directory is removed after the run"


def test_the_work_directory_is_writable_with_a_file_size_limit():
    small = returned("def f(x):\n    open('a.txt', 'w').write('hi')\n    return open('a.txt').read()\n")
    assert small == "hi"
    _, result = run_one("def f(x):\n    open('big', 'wb').write(b'x' * (2 * 1024 * 1024))\n")
    assert result.status == "error" and "File too large" in result.message


@linux_only
def test_network_and_signals_to_other_processes_are_refused():
    run, _ = run_one("def f(x):\n    return 1\n")
    if not run.protections.get("network"):
        pytest.skip("this machine allows no network namespace")
    message = returned(
        "import socket\ndef f(x):\n    try:\n        socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
        "    except OSError as e:\n        return str(e)\n")
    assert "unreachable" in message.lower() or "refused" in message.lower()
    if run.protections.get("syscall_filter"):
        assert "Operation not permitted" in returned(
            "import os\ndef f(x):\n    try:\n        os.kill(os.getppid(), 9)\n    except OSError as e:\n"
            "        return str(e)\n")


def test_threads_cannot_start():
    _, result = run_one("import threading\ndef f(x):\n    threading.Thread(target=print).start()\n")
    assert result.status == "error" and "can't start new thread" in result.message


def test_a_crash_that_kills_the_process_is_reported():
    _, result = run_one("import os\ndef f(x):\n    os._exit(3)\n")
    assert result.status == "crashed" and "status 3" in result.message


def test_later_tests_do_not_run_after_a_timeout():
    run = run_function("def f(x):\n    while x:\n        pass\n    return x\n", "f", [[0], [1], [0]], FAST)
    assert [r.status for r in run.results] == ["returned", "timeout", "not-run"]


def test_an_exception_names_the_line_in_solution_py():
    _, result = run_one("def f(x):\n    return [][x]\n")
    assert result.status == "error" and result.message.startswith("IndexError") and "line 2" in result.message


def test_return_value_too_large_is_refused():
    _, result = run_one("def f(x):\n    return 'x' * 3_000_000\n")
    assert result.status == "error" and "limit" in result.message
