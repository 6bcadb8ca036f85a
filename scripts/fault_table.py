"""Run every storage fault and hostile-input case for real and write docs/faults.md from what happened.

Each case sets up a fresh MOCKINT_HOME under a temp folder, runs mockint the way a user would (a
subprocess of the real CLI, a pseudo-terminal for the TUI, or the app under Textual's Pilot with the
fake encoder), records the first line the user sees, and checks that the data was kept: files
byte-for-byte unchanged, answers in the database or the recovery file. A case whose check fails is
written as FAIL and the script exits 1.

    python scripts/fault_table.py            # rewrite docs/faults.md
    python scripts/fault_table.py --check    # exit 1 if docs/faults.md would change

Run as root it also uses real tmpfs mounts for a full disk and a read-only home; otherwise those
rows use SQLite's own limits (PRAGMA max_page_count, a read-only connection) and say so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.store import Store, database  # noqa: E402
from grader.store.migrations import known_migrations  # noqa: E402
from grader.store.recovery import RECOVERY_FILENAME  # noqa: E402

OUTPUT = REPO / "docs" / "faults.md"
MOCKINT = [sys.executable, "-c", "from grader.cli import main; main()"]
ANSWER = "The model memorizes noise in the training data, so validation error rises."
ESCAPES = "Overfitting \x1b]0;pwned\x07is memorising\x1b[2J noise.\x1b[31m Use validation.\x07"


@dataclass
class Row:
    case: str
    sees: str
    kept: str
    ok: bool = True


# -- helpers ------------------------------------------------------------------------------------------


def digest(path: Path) -> str:
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "MOCKINT_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "100"}
    env.pop("MOCKINT_TEST_ENCODER", None)
    env.update(extra)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str], home: Path, *, stdin=subprocess.DEVNULL, timeout: float = 120, **extra: str
        ) -> tuple[subprocess.CompletedProcess[bytes], float]:
    """The CLI's result and the CPU seconds it used (wall time depends on how busy the machine is)."""
    before = _children_cpu()
    result = subprocess.run([*MOCKINT, *args], cwd=REPO, env=env_for(home, **extra), stdin=stdin,
                            capture_output=True, timeout=timeout)
    return result, _children_cpu() - before


def one_line(result: subprocess.CompletedProcess[bytes], seconds: float) -> str:
    """The user's view of a refusal: must be one stderr line, exit 2, no traceback."""
    err = result.stderr.decode().strip()
    assert result.returncode == 2, f"exit {result.returncode}: {err[-300:]}"
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err[-300:]
    assert seconds < 5, f"used {seconds:.1f} s of CPU"
    return f"`{err}` (exit 2, under 5 s of CPU)"


def tidy(text: str, home: Path) -> str:
    """Paths shortened and session ids replaced, so the table only changes when behaviour does."""
    text = re.sub(r"\b\d{8}-\d{6}-[0-9a-f]{4}\b", "SESSION", text)
    return text.replace(str(home.parent), "…").replace(str(REPO), ".").replace("|", "\\|")


@contextlib.contextmanager
def mounted_tmpfs(target: Path, *, size: str, read_only: bool = False) -> Iterator[bool]:
    """A real tmpfs at target (root only); yields False when mounting is not possible."""
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield False
        return
    options = f"size={size}" + (",ro" if read_only else "")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True).returncode:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def seed_session(home: Path, answer: str = ANSWER) -> str:
    """A session with a question and an answer, written through the Store as the TUI does."""
    with Store(home / "mockint.db") as store:
        session_id = store.create_session("pinterest", "interview", ["technical-screen"])
        store.add_turn(session_id, role="interviewer", kind="question", text="What is overfitting?",
                       question_id="pinterest.screen.overfitting", round_id="technical-screen")
        store.add_turn(session_id, role="candidate", kind="answer", text=answer,
                       question_id="pinterest.screen.overfitting", round_id="technical-screen")
    return session_id


def answers_in(db: Path) -> list[str]:
    with Store(db) as store:
        return [t.text for s in store.sessions() for t in store.turns(s.id) if t.kind == "answer"]


# -- cases: opening the database --------------------------------------------------------------------------


def case_not_a_database(home: Path) -> Row:
    home.mkdir()
    (home / "mockint.db").write_text("my shopping list\n")
    before = digest(home / "mockint.db")
    sees = one_line(*run(["history"], home))
    assert digest(home / "mockint.db") == before
    return Row("`mockint.db` is a text file, not a database (`history`)", sees, "file byte-for-byte unchanged")


def case_truncated(home: Path) -> Row:
    home.mkdir()
    seed_session(home, "a long answer " * 2000)
    db = home / "mockint.db"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    before = digest(db)
    sees = one_line(*run(["history"], home))
    assert digest(db) == before
    return Row("`mockint.db` truncated to half its size", sees, "file unchanged")


def case_corrupt_after_crash(home: Path) -> Row:
    home.mkdir()
    seed_session(home)
    db = home / "mockint.db"
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for offset in range(2 * page, len(data), page):
        data[offset : offset + 40] = b"\xff" * 40
    db.write_bytes(bytes(data))
    (home / ".mockint.db.999999999-0.running").touch()  # what a killed mockint leaves behind
    before = digest(db)
    sees = one_line(*run(["history"], home))
    assert digest(db) == before
    return Row("damaged pages, found by `PRAGMA quick_check` after an unclean shutdown", sees, "file unchanged")


def case_unclean_but_intact(home: Path) -> Row:
    home.mkdir()
    seed_session(home)
    (home / ".mockint.db.999999999-0.running").touch()
    result, _ = run(["history"], home)
    assert result.returncode == 0, result.stderr.decode()
    note = result.stderr.decode().strip()
    assert "checked and is intact" in note
    assert answers_in(home / "mockint.db") == [ANSWER]
    return Row("unclean shutdown, database intact", f"`{note}`, then the listing (exit 0)", "every answer")


def case_foreign_sqlite(home: Path) -> Row:
    home.mkdir()
    conn = sqlite3.connect(home / "mockint.db")
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = digest(home / "mockint.db")
    sees = one_line(*run(["history"], home))
    assert digest(home / "mockint.db") == before
    return Row("`mockint.db` is another program's SQLite database", sees, "file unchanged, never migrated")


def case_folder(home: Path) -> Row:
    (home / "mockint.db").mkdir(parents=True)
    (home / "mockint.db" / "keep.txt").write_text("mine")
    sees = one_line(*run(["history"], home))
    assert (home / "mockint.db" / "keep.txt").read_text() == "mine"
    return Row("`mockint.db` is a folder", sees, "folder and its files unchanged")


def case_home_is_file(home: Path) -> Row:
    home.write_text("not a folder")
    sees = one_line(*run(["history"], home))
    assert home.read_text() == "not a folder"
    return Row("`MOCKINT_HOME` is a file", sees, "file unchanged")


def case_home_read_only(home: Path) -> Row:
    with mounted_tmpfs(home, size="1m", read_only=True) as real:
        if not real:
            home.chmod(0o500)
        sees = one_line(*run(["history"], home))
        how = "a read-only tmpfs mount" if real else "chmod 500"
        assert not (home / "mockint.db").exists()
    home.chmod(0o700)
    return Row(f"`MOCKINT_HOME` read-only ({how})", sees, "nothing written")


def case_locked_at_start(home: Path) -> Row:
    home.mkdir()
    seed_session(home)
    conn = sqlite3.connect(home / "mockint.db")
    conn.execute("PRAGMA journal_mode = DELETE")  # a tool that locks readers out too
    conn.execute("BEGIN EXCLUSIVE")
    try:
        sees = one_line(*run(["history"], home))
    finally:
        conn.rollback()
        conn.close()
    assert answers_in(home / "mockint.db") == [ANSWER]
    return Row("database locked by another program when mockint starts", sees, "every answer")


def case_disk_full_on_create(home: Path) -> Row:
    with mounted_tmpfs(home, size="64k") as real:
        if not real:
            return Row("disk full when creating the database", "(skipped: needs root for a tmpfs mount)", "—")
        filler = home / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        before = digest(filler)
        sees = one_line(*run(["history"], home))
        assert digest(filler) == before
    return Row("disk full when creating the database (64 KB tmpfs, full)", sees, "other files unchanged")


def case_newer_schema(home: Path) -> Row:
    home.mkdir()
    seed_session(home)
    conn = sqlite3.connect(home / "mockint.db")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    before = digest(home / "mockint.db")
    sees = one_line(*run(["history"], home))
    assert digest(home / "mockint.db") == before
    return Row("database written by a newer mockint (schema 7)", sees, "file unchanged")


def case_race(home: Path) -> Row:
    home.mkdir()
    procs = [subprocess.Popen([*MOCKINT, "history"], cwd=REPO, env=env_for(home), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE) for _ in range(6)]
    codes = [p.wait(timeout=120) for p in procs]
    errors = [p.stderr.read().decode() for p in procs if p.stderr is not None]
    assert codes == [0] * 6, errors
    with Store(home / "mockint.db") as store:
        assert store.applied_migrations() == known_migrations()
    return Row("six first runs create the database at the same moment", "each lists no sessions (exit 0, 6 of 6)",
               "one schema, migrated once")


def case_malformed_row(home: Path) -> Row:
    home.mkdir()
    session_id = seed_session(home)
    conn = sqlite3.connect(home / "mockint.db")
    conn.execute("UPDATE sessions SET round_ids = '{broken' WHERE id = ?", [session_id])
    conn.commit()
    conn.close()
    result, _ = run(["history"], home)
    assert result.returncode == 0 and session_id in result.stdout.decode(), result.stderr.decode()
    line = result.stderr.decode().strip().splitlines()[0]
    export, _ = run(["export", session_id, "--format", "json"], home)
    assert export.returncode == 0, export.stderr.decode()
    return Row("one session row with malformed JSON (`history`, `export`)", f"the listing, then `{line}` (exit 0)",
               "every session listed; the damaged one shown with every round")


# -- cases: writing ------------------------------------------------------------------------------------------


def _store_fault(home: Path, make_fault: Callable[[Store], Callable[[], None] | None]) -> tuple[str, list[str]]:
    """Open the store, inject the fault, try an answer write; the error line and the answers kept."""
    from grader.store import StoreWriteError

    home.mkdir(exist_ok=True)
    seed_session(home)
    store = Store(home / "mockint.db")
    session_id = store.sessions()[0].id
    undo = make_fault(store)
    try:
        store.add_turn(session_id, role="candidate", kind="answer", text="second answer " * 5000,
                       question_id="pinterest.screen.overfitting", round_id="technical-screen")
        message = "(the write succeeded)"
    except StoreWriteError as exc:
        message = str(exc)
    finally:
        if undo:
            undo()
        store.close()
    return message, answers_in(home / "mockint.db")


def case_write_disk_full(home: Path) -> Row:
    with mounted_tmpfs(home, size="160k") as real:
        if real:
            def fill(store: Store) -> None:
                with contextlib.suppress(OSError), (home / "filler").open("wb") as handle:
                    while True:
                        handle.write(b"\0" * 4096)
                        handle.flush()
            message, kept = _store_fault(home, fill)
            how = "tmpfs filled up"
        else:
            def cap(store: Store) -> None:
                pages = store.db.execute("PRAGMA page_count").fetchone()[0]
                store.db.execute(f"PRAGMA max_page_count = {pages}")
            message, kept = _store_fault(home, cap)
            how = "PRAGMA max_page_count"
    assert "disk is full" in message, message
    assert kept == [ANSWER]
    return Row(f"answer written on a full disk ({how}), Store API", f"`{tidy(message, home)}`",
               "earlier answers intact; nothing half-written")


def case_write_read_only(home: Path) -> Row:
    from sqlite_utils import Database

    def read_only(store: Store) -> None:
        store.db.conn.close()
        store.db = Database(database.connect(store.path, read_only=True))

    message, kept = _store_fault(home, read_only)
    assert "read-only" in message, message
    assert kept == [ANSWER]
    return Row("answer written to a read-only database, Store API", f"`{tidy(message, home)}`",
               "earlier answers intact")


def case_kill_while_locked(home: Path) -> Row:
    home.mkdir()
    seed_session(home)
    lock = sqlite3.connect(home / "mockint.db")
    lock.execute("BEGIN EXCLUSIVE")
    writer = subprocess.Popen([sys.executable, "-c", (
        "from grader.store import Store; s = Store(); sid = s.sessions()[0].id; "
        f"s.add_turn(sid, role='candidate', kind='answer', text={ANSWER + ' (second)'!r})")],
        cwd=REPO, env=env_for(home))
    deadline = time.monotonic() + 30
    while not list(home.glob(".mockint.db.*.pending")) and time.monotonic() < deadline:
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    lock.rollback()
    lock.close()
    result, _ = run(["history"], home)
    note = next(line for line in result.stderr.decode().splitlines() if "was put in" in line)
    recovered = (home / RECOVERY_FILENAME).read_text()
    assert ANSWER + " (second)" in recovered
    return Row("`kill -9` while an answer waits for a locked database", f"next run: `{tidy(note, home)}`",
               f"the answer, in `{RECOVERY_FILENAME}`")


# -- cases: the TUI (Pilot with the fake encoder; a pty for signals) --------------------------------------------


def _pilot_submit(home: Path, fault: str) -> Row:
    from textual.widgets import TextArea

    from tests.tui.factory import SIZE, make_app, packs_dir
    from tests.tui.helpers import begin, settle, type_text

    home.mkdir(exist_ok=True)
    outcome: dict[str, object] = {}

    async def drive() -> None:
        store = Store(home / "mockint.db")
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await begin(pilot)
            lock = sqlite3.connect(home / "mockint.db", timeout=0, check_same_thread=False)
            lock.execute("BEGIN EXCLUSIVE")
            release_after = 2.0 if fault == "brief" else None
            if release_after:  # from another thread: the app's own thread is the one waiting for the lock
                threading.Timer(release_after, lambda: (lock.rollback(), lock.close())).start()
            await type_text(pilot, ANSWER)
            await pilot.press("ctrl+s")
            await settle(pilot)
            screen = app.screen
            outcome["box"] = screen.query_one("#answer", TextArea).text
            outcome["notices"] = [str(n.message) for n in app._notifications]
            outcome["step"] = getattr(screen, "step", None)
            outcome["unsaved"] = app.unsaved
            if not release_after:
                lock.rollback()
                lock.close()
        outcome["answers"] = [t.text for t in store.turns(app.session_id or "") if t.kind == "answer"]
        store.close()

    saved_rubrics = os.environ.get("MOCKINT_RUBRICS")
    os.environ["MOCKINT_RUBRICS"] = str(packs_dir())
    try:
        if fault == "long":
            database.WRITE_DEADLINE_SECONDS, saved = 1.0, database.WRITE_DEADLINE_SECONDS
            try:
                asyncio.run(drive())
            finally:
                database.WRITE_DEADLINE_SECONDS = saved
        else:
            asyncio.run(drive())
    finally:
        if saved_rubrics is None:
            os.environ.pop("MOCKINT_RUBRICS", None)
        else:
            os.environ["MOCKINT_RUBRICS"] = saved_rubrics
    if fault == "long":
        recovered = (home / RECOVERY_FILENAME).read_text()
        assert outcome["box"] == ANSWER and ANSWER in recovered and outcome["answers"] == []
        first = next(n for n in outcome["notices"] if "NOT saved" in n)  # type: ignore[union-attr]
        from grader.tui.safekeeping import exit_message

        exit_line = exit_message("SESSION", False, outcome["unsaved"])  # type: ignore[arg-type]
        return Row("answer submitted while another process holds the lock past the deadline (TUI)",
                   f"notice: `{tidy(' '.join(first.split()), home)}`; exit line: `{tidy(exit_line, home)}`",
                   f"answer stays in the box and is appended to `{RECOVERY_FILENAME}`")
    step = outcome["step"]
    assert outcome["answers"] == [ANSWER] and outcome["unsaved"] is None
    assert step is not None and step.kind == "probe"  # type: ignore[attr-defined]
    return Row("answer submitted while another process holds an exclusive lock for 2 s (TUI)",
               "the screen waits, then the interview goes on (next: a follow-up)", "answer in the database")


def case_tui_brief_lock(home: Path) -> Row:
    return _pilot_submit(home, "brief")


def case_tui_long_lock(home: Path) -> Row:
    return _pilot_submit(home, "long")


def case_sigterm_draft(home: Path) -> Row:
    from tests.test_kill_resume import MOCKINT as SCRIPT
    from tests.test_kill_resume import Terminal, _env, _turns, wait_for

    env = _env(home)
    term = Terminal([str(SCRIPT), "start", "--company", "acme"], env)
    try:
        wait_for(lambda: "Press Enter to begin" in term.screen_text(), "the briefing")
        term.type("\r")
        wait_for(lambda: any(t.kind == "question" for t in _turns(home)), "the first question")
        term.type("typed,")
        wait_for(lambda: [t.text for t in _turns(home) if t.kind == "note"] == ["typed,"], "the debounced draft")
        term.type(" never submitted")
        time.sleep(0.5)  # under the 1 s debounce: only the signal handler can save these words
        os.kill(term.proc.pid, signal.SIGTERM)
        code = term.proc.wait(timeout=30)
        time.sleep(0.3)
        raw = bytes(term.output)
    finally:
        term.close()
    with Store(home / "mockint.db") as store:
        notes = [t.text for s in store.sessions() for t in store.turns(s.id) if t.kind == "note"]
    assert notes == ["typed, never submitted"], notes
    assert code == 0 and b"\x1b[?1049l" in raw  # left the alternate screen: the terminal is restored
    last = re.findall(r"Session \S+ saved\. Continue: mockint resume \S+", term.screen_text())[-1]
    return Row("SIGTERM during an interview (pty)", f"terminal restored; `{tidy(last, home)}`",
               "the unsubmitted draft, restored by `mockint resume`")


# -- cases: input and output ---------------------------------------------------------------------------------


def case_dev_zero(home: Path) -> Row:
    with open("/dev/zero", "rb") as zero:
        sees = one_line(*run(["grade", "-q", "pinterest.screen.overfitting"], home, stdin=zero))
    return Row("`mockint grade < /dev/zero`", sees, "reads 200,001 bytes at most")


def case_no_terminal(home: Path) -> Row:
    sees = one_line(*run(["start", "--company", "pinterest"], home))
    assert not home.exists()
    return Row("`mockint start` with standard input not a terminal", sees, "nothing created")


def case_grade_escapes(home: Path) -> Row:
    answer = home.parent / "hostile-answer.txt"
    answer.write_text(ESCAPES)
    result, _ = run(["grade", "-q", "pinterest.screen.overfitting", "--file", str(answer)], home, timeout=300)
    assert result.returncode == 0, result.stderr.decode()[-300:]
    assert not any(byte in result.stdout for byte in (b"\x1b", b"\x07"))
    assert answer.read_text() == ESCAPES
    return Row("`mockint grade --file F \\| cat`, F full of escape sequences",
               "the breakdown with the answer's words; no escape or bell byte from F", "F unchanged")


def case_grade_read_only_home(home: Path) -> Row:
    with mounted_tmpfs(home, size="1m", read_only=True) as real:
        if not real:
            return Row("`mockint grade` with a read-only home", "(skipped: needs root for a ro mount)", "—")
        answer = home.parent / "answer.txt"
        answer.write_text(ANSWER)
        result, _ = run(["grade", "-q", "pinterest.screen.overfitting", "--file", str(answer)], home, timeout=300)
        assert result.returncode == 0, result.stderr.decode()[-300:]
        warning = result.stderr.decode().strip().splitlines()[-1]
    return Row("`mockint grade` with a read-only home (ro tmpfs)", f"the grade, and `{tidy(warning, home)}`",
               "nothing written")


def case_bad_cache(home: Path) -> Row:
    home.mkdir()
    answer = home.parent / "answer.txt"
    answer.write_text(ANSWER)
    args = ["grade", "-q", "pinterest.screen.overfitting", "--file", str(answer), "--json"]
    first, _ = run(args, home, timeout=300)
    cache = next((home / "cache").glob("*.npz"))
    cache.write_bytes(cache.read_bytes()[:1000])
    second, _ = run(args, home, timeout=300)
    assert second.returncode == 0 and first.stdout == second.stdout
    warning = second.stderr.decode().strip().splitlines()[-1]
    third, _ = run(args, home, timeout=300)
    assert third.returncode == 0 and not third.stderr.strip()
    return Row("truncated embedding cache", f"the same grade, and `{tidy(warning, home)}`",
               "cache rebuilt atomically; next run silent")


def case_export_html(home: Path) -> Row:
    home.mkdir()
    session_id = seed_session(home, "I'd regularise. <script>alert(1)</script> [docs](javascript:alert(1)) "
                                    "\x1b]0;pwned\x07")
    result, _ = run(["export", session_id, "--format", "md"], home)
    text = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "<script>" not in text and "javascript:" not in text and "\x1b" not in text
    return Row("`export --format md` of an answer with HTML, a `javascript:` link and escapes",
               "`&lt;script>`, `[docs](#unsafe-link-removed)`, no escape bytes", "stored answer unchanged")


CASES: list[Callable[[Path], Row]] = [
    case_not_a_database, case_truncated, case_foreign_sqlite, case_folder, case_home_is_file, case_home_read_only,
    case_locked_at_start, case_disk_full_on_create, case_newer_schema, case_corrupt_after_crash,
    case_unclean_but_intact, case_race, case_malformed_row,
    case_tui_brief_lock, case_tui_long_lock, case_write_disk_full, case_write_read_only, case_kill_while_locked,
    case_sigterm_draft,
    case_dev_zero, case_no_terminal, case_grade_escapes, case_grade_read_only_home, case_bad_cache, case_export_html,
]


def render(rows: list[Row]) -> str:
    lines = [
        "# What mockint does when storage fails or input is hostile",
        "",
        "Generated by `python scripts/fault_table.py`, which runs every case below for real (a fresh",
        "`MOCKINT_HOME` each, the real CLI in a subprocess, the TUI under Textual's Pilot with the fake",
        "encoder or in a pseudo-terminal) and checks what was kept. Do not edit by hand.",
        "",
        "Writes wait for another process's lock (busy timeout 5 s per attempt, retried with backoff for",
        f"up to {database.WRITE_DEADLINE_SECONDS:g} s) before they fail; the TUI case that fails shortens that",
        "to 1 s to keep the run short. Paths are shortened to `…`.",
        "",
        "| case | what the user sees | data kept |",
        "|---|---|---|",
    ]
    for row in rows:
        mark = "" if row.ok else "**FAIL** "
        lines.append(f"| {mark}{row.case} | {row.sees} | {row.kept} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/faults.md is not current")
    parser.add_argument("-k", dest="only", help="run only cases whose function name contains this")
    args = parser.parse_args()
    rows = []
    for case in CASES:
        if args.only and args.only not in case.__name__:
            continue
        root = Path(tempfile.mkdtemp(prefix="mockint-fault-"))
        started = time.monotonic()
        try:
            row = case(root / "home")
        except Exception as exc:  # a broken case is a FAIL row, never a crash of the whole table
            row = Row(case.__name__, f"`{type(exc).__name__}: {' '.join(str(exc).split())[:200]}`", "?", ok=False)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        row.sees, row.kept = tidy(row.sees, root / "home"), tidy(row.kept, root / "home")
        print(f"{'ok  ' if row.ok else 'FAIL'} {time.monotonic() - started:5.1f}s  {case.__name__}", file=sys.stderr)
        rows.append(row)
    text = render(rows)
    if args.only:
        print(text)
        return 0 if all(r.ok for r in rows) else 1
    if args.check:
        return 0 if OUTPUT.exists() and OUTPUT.read_text() == text and all(r.ok for r in rows) else 1
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
