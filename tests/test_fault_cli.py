"""The acceptance cases for bad homes, bad databases and hostile input, run as a user runs them:
the installed ``mockint`` in a subprocess. Each must be one line on stderr, a non-zero exit
within seconds, and nothing on disk modified."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from grader.engine.encoder import CachedEncoder, CacheWarning
from tests.conftest import REPO
from tests.fakes import HashingEncoder

MOCKINT = [sys.executable, "-c", "from grader.cli import main; main()"]
ESCAPES = "Overfitting \x1b]0;pwned\x07is memorising\x1b[2J noise.\x1b[31m Use validation.\x9b2J\x07"


def mockint(*args: str, home: Path, stdin=subprocess.DEVNULL, timeout: float = 60):  # type: ignore[no-untyped-def]
    """The result and the CPU seconds the command used (wall time depends on how busy the machine is)."""
    env = {**os.environ, "MOCKINT_HOME": str(home), "PYTHONPATH": str(REPO)}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([*MOCKINT, *args], cwd=REPO, env=env, stdin=stdin, capture_output=True,
                            timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)


def _snapshot(root: Path) -> dict[str, bytes]:
    if root.is_file():
        return {str(root): root.read_bytes()}
    return {str(p): p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(root.rglob("*"))}


def assert_one_line_failure(result, seconds: float) -> str:  # type: ignore[no-untyped-def]
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr
    assert seconds < 5  # CPU seconds: a bounded amount of work, not a spin or an unbounded read
    return stderr


def test_history_on_a_file_that_is_not_a_database(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "mockint.db").write_text("shopping list\n")
    before = _snapshot(home)
    result, seconds = mockint("history", home=home)
    assert "not a mockint database" in assert_one_line_failure(result, seconds)
    assert _snapshot(home) == before


def test_mockint_home_that_is_a_file(tmp_path):
    home = tmp_path / "home"
    home.write_text("not a folder")
    result, seconds = mockint("history", home=home)
    assert "is a file, not a folder" in assert_one_line_failure(result, seconds)
    assert home.read_text() == "not a folder"


def test_grade_reading_dev_zero_stops_at_the_limit(tmp_path):
    with open("/dev/zero", "rb") as zero:
        result, seconds = mockint("grade", "-q", "pinterest.screen.overfitting", home=tmp_path / "h", stdin=zero)
    assert "limit" in assert_one_line_failure(result, seconds)


def test_start_without_a_terminal_refuses_and_creates_nothing(tmp_path):
    home = tmp_path / "home"
    result, seconds = mockint("start", "--company", "pinterest", home=home)
    assert "needs a terminal" in assert_one_line_failure(result, seconds)
    assert not home.exists()


@pytest.mark.real_model
def test_grade_piped_never_echoes_an_escape_byte_from_the_answer(tmp_path):
    from tests.test_cli import STRONG_OVERFITTING

    answer = tmp_path / "answer.txt"
    # Escapes inside the sentences that earn points, so the evidence echoed back carries them.
    answer.write_text(STRONG_OVERFITTING.replace("noise", "\x1b]0;pwned\x07noise\x1b[2J").replace(". ", ".\x9b2J ")
                      + ESCAPES)
    result, _ = mockint("grade", "-q", "pinterest.screen.overfitting", "--file", str(answer), home=tmp_path / "h",
                        timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout and "\x9b" not in result.stdout.decode()
    assert "your words" in result.stdout.decode()


def test_the_breakdown_strips_control_characters_from_every_echoed_text():
    import io

    from rich.console import Console

    from grader.cli import print_breakdown
    from tests.interview.sample_pack import QUESTIONS, make_result

    question = QUESTIONS[0]
    result = make_result(question, {question.points[0].id})
    point = result.points[0]
    hostile = result.__class__(**{**result.__dict__, "points": [
        point.__class__(**{**point.__dict__, "evidence": ESCAPES}), *result.points[1:]]})
    out = io.StringIO()
    print_breakdown(Console(file=out, force_terminal=False, width=200), question, hostile)
    text = out.getvalue()
    assert "memorising noise" in text
    assert not any(ch in text for ch in "\x1b\x07\x9b")


def _cache_with(directory: Path) -> CachedEncoder:
    return CachedEncoder(HashingEncoder(), directory)


def test_an_unwritable_cache_is_skipped_with_a_warning(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = _cache_with(blocker / "cache")  # cannot be created, even by root
    vectors = cache.encode(["a rubric sentence"])
    with pytest.warns(CacheWarning, match="cannot write the embedding cache"):
        cache.save()
    assert vectors.shape == (1, 128)


def test_a_truncated_cache_is_rebuilt_with_a_warning_and_replaced_atomically(tmp_path):
    first = _cache_with(tmp_path)
    expected = first.encode(["one", "two"])
    first.save()
    full = first.path.read_bytes()
    first.path.write_bytes(full[: len(full) // 2])
    second = _cache_with(tmp_path)
    with pytest.warns(CacheWarning, match="unreadable"):
        again = second.encode(["one", "two"])
    np.testing.assert_allclose(again, expected)
    second.save()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = _cache_with(tmp_path)
        np.testing.assert_allclose(third.encode(["one", "two"]), expected)
    assert third.encoder.calls == 0  # the rebuilt cache was written whole and read back
    assert not list(tmp_path.glob("*.tmp"))
