"""Opening mockint.db safely and writing to it without losing a word.

SQLite's own guidance, applied to every connection mockint makes (sqlite.org rescode.html#busy,
wal.html): WAL so readers never block the writer, a busy timeout so a second process waits for
the lock instead of failing at once, and ``BEGIN IMMEDIATE`` so a writer takes the lock up front
(a deferred transaction that later needs it fails mid-way with SQLITE_BUSY). Around that, a
bounded retry with backoff, after which a write fails with a one-line ``StoreWriteError``.

Opening checks the file before SQLite touches it, so a file that is not mockint's is never
written to: a folder, a file that is not SQLite, another program's SQLite database, a damaged or
a newer-schema database each stop with a ``StoreOpenError`` naming the path and the fix.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from grader.store.errors import SchemaTooNewError, StoreError, StoreOpenError, StoreWriteError
from grader.store.migrations import MIGRATION_SET, known_migrations, migrations
from grader.store.sqlite import Database

SQLITE_HEADER = b"SQLite format 3\x00"
APPLICATION_ID = 0x6D6F636B  # "mock": marks the file as mockint's in the SQLite header
SCHEMA_VERSION = len(known_migrations())
"""Recorded as ``PRAGMA user_version``; a database with a higher one was written by a newer mockint."""

BUSY_TIMEOUT_MS = 5_000
"""How long one attempt waits for another process's lock (SQLite's busy handler)."""
WRITE_DEADLINE_SECONDS = 15.0
"""How long a write keeps retrying a locked database before it gives up and says so."""
DRAFT_BUSY_TIMEOUT_MS = 250
"""Drafts are saved every second while typing: they wait briefly and try again on the next change."""

RUNNING_MARKER_GLOB = ".{name}.*.running"
_marker_numbers = itertools.count()
PROCESS_TAG = secrets.token_hex(4)
"""Random per process, in the names of the files a process keeps beside the database (running
markers, pending answers): a later process that gets the same pid, as one may on every start in
a container, tells a dead namesake's files from its own."""
_PROCESS_FILE_STEM = re.compile(r"(?P<pid>[1-9][0-9]{0,8})-(?:(?P<tag>[0-9a-f]{8})-)?[0-9]+")


def write_failure_reason(exc: sqlite3.Error) -> str:
    """``locked``, ``full``, ``read-only``, ``io``, ``corrupt`` or ``other`` for an SQLite error."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return "locked"
    if name.startswith("SQLITE_FULL") or "is full" in text:
        return "full"
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return "read-only"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return "corrupt"
    if name.startswith("SQLITE_IOERR") or "i/o" in text:
        return "io"
    return "other"


# -- opening ----------------------------------------------------------------------------------------


def check_location(path: Path) -> None:
    """Refuse, before SQLite opens anything, a path mockint must not create or write a database at."""
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise StoreOpenError(f"{folder} is a file, not a folder: point MOCKINT_HOME at a folder "
                             "(mockint left the file untouched)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreOpenError(f"cannot create the folder {folder}: {exc.strerror}; "
                             "point MOCKINT_HOME at a writable folder") from None
    if path.is_dir():
        raise StoreOpenError(f"{path} is a folder, not a database file: move it away or point MOCKINT_HOME "
                             "elsewhere (mockint left it untouched)")
    if path.exists() and not path.is_file():
        raise StoreOpenError(f"{path} is not a regular file: move it away or point MOCKINT_HOME elsewhere")
    if path.exists() and path.stat().st_size > 0:
        try:
            with path.open("rb") as handle:
                header = handle.read(100)
        except OSError as exc:
            raise StoreOpenError(f"cannot read {path}: {exc.strerror}") from None
        if not header.startswith(SQLITE_HEADER):
            raise StoreOpenError(f"{path} is not a mockint database (not an SQLite file): move it away or point "
                                 "MOCKINT_HOME elsewhere; mockint never overwrites it")
        # With a WAL beside it the header can promise pages only the WAL holds yet (a checkpoint cut
        # short by a full disk): SQLite reads them from there, so the size says nothing then.
        wal = path.with_name(path.name + "-wal")
        promised = 0 if wal.exists() and wal.stat().st_size > 0 else _size_in_header(header)
        if len(header) < 100 or path.stat().st_size < promised:
            raise StoreOpenError(f"{path} is truncated ({path.stat().st_size:,} bytes): restore it from a backup "
                                 "(mockint backup) or move it away to start afresh; mockint left it untouched")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreOpenError(f"{folder} is read-only: make it writable (chmod u+w) or point MOCKINT_HOME at a "
                             "writable folder")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreOpenError(f"{path} is read-only: make it writable (chmod u+w {path}) or point MOCKINT_HOME "
                             "elsewhere")


def _size_in_header(header: bytes) -> int:
    """The file size the SQLite header promises (0 when the header does not vouch for it)."""
    if len(header) < 100:
        return 0
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    change_counter, valid_for = header[24:28], header[92:96]
    return page_size * pages if change_counter == valid_for else 0


def connect(path: Path | str, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection with the busy timeout and foreign keys on: the only way mockint connects."""
    target = f"file:{Path(path).as_posix()}?mode=ro" if read_only else str(path)
    conn = sqlite3.connect(target, uri=read_only, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _open_failure(path: Path, exc: sqlite3.Error) -> StoreOpenError:
    reason = write_failure_reason(exc)
    if reason == "corrupt":
        return StoreOpenError(f"{path} is damaged ({exc}): restore it from a backup (mockint backup) or move it "
                              "away to start afresh; mockint left it untouched")
    if reason == "locked":
        return StoreOpenError(f"{path} is locked by another process: close the other mockint (or the program "
                              "holding it) and try again")
    if reason == "full":
        return StoreOpenError(f"cannot open {path}: the disk is full; free some space and try again")
    if reason == "read-only":
        return StoreOpenError(f"{path} is read-only: make it and its folder writable, or point MOCKINT_HOME "
                              "elsewhere")
    return StoreOpenError(f"cannot open {path}: {exc}")


def open_database(path: Path) -> tuple[sqlite3.Connection, list[str]]:
    """Check, connect, verify and migrate; the connection and notices for the user.

    Raises ``StoreOpenError`` (one line) for every reason the file cannot be used; the file is
    left exactly as it was in each of those cases.
    """
    check_location(path)
    notices: list[str] = []
    conn: sqlite3.Connection | None = None
    try:
        conn = connect(path)
        db = Database(conn)
        _check_is_mockint(db, path)
        stale = _stale_markers(path)
        if stale:
            _quick_check(conn, path)
            notices.append(f"mockint did not close cleanly last time; {path.name} was checked and is intact")
            for marker in stale:
                with suppress(OSError):
                    marker.unlink()
        _with_retry(lambda: _enable_wal(db), path)
        _migrate(db, path)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise _open_failure(path, exc) from None
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    return conn, notices


def _check_is_mockint(db: Database, path: Path) -> None:
    tables = set(db.table_names())
    if not tables:
        return  # a new (or empty) file: ours to initialise
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    ours = application_id == APPLICATION_ID or (
        application_id == 0
        and "_sqlite_migrations" in tables
        and db.execute("SELECT 1 FROM _sqlite_migrations WHERE migration_set = ? LIMIT 1",
                       [MIGRATION_SET]).fetchone() is not None
    )
    if not ours:
        raise StoreOpenError(f"{path} is an SQLite database that mockint did not create: move it away or point "
                             "MOCKINT_HOME elsewhere; mockint never overwrites it")
    _check_schema_not_newer(db, path)


def _check_schema_not_newer(db: Database, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    known = set(known_migrations())
    unknown = [m.name for m in migrations.applied(db) if m.name not in known]
    if version > SCHEMA_VERSION or unknown:
        found = f"schema version {version}" if version > SCHEMA_VERSION else f"unknown migration {unknown[0]}"
        raise SchemaTooNewError(f"{path} was written by a newer mockint ({found}; this version knows up to "
                                f"{SCHEMA_VERSION}): upgrade mockint to open it; this version left it untouched")


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise StoreOpenError(f"{path} is damaged (quick_check: {rows[0]}): restore it from a backup or move it "
                             "away to start afresh; mockint left it untouched")


def _enable_wal(db: Database) -> None:
    db.enable_wal()


def _migrate(db: Database, path: Path) -> None:
    """Apply pending migrations holding the write lock, so two first runs cannot both create the tables."""

    def needed() -> bool:
        return bool(migrations.pending(db)) or db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION \
            or db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID

    if not needed():
        return
    with write_transaction(db.conn, path):
        # Checked again under the lock: another process may have migrated while this one waited.
        _check_schema_not_newer(db, path)
        if needed():
            migrations.apply(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _with_retry(action, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Run ``action`` again while the database is locked, up to the write deadline."""
    deadline = time.monotonic() + WRITE_DEADLINE_SECONDS
    delay = 0.05
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if write_failure_reason(exc) != "locked" or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


# -- writing ----------------------------------------------------------------------------------------


@contextmanager
def write_transaction(
    conn: sqlite3.Connection,
    path: Path,
    *,
    deadline_seconds: float | None = None,
    busy_timeout_ms: int | None = None,
) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, waiting and retrying for the lock; ``StoreWriteError`` if it fails.

    The lock is taken before anything is read, so the transaction cannot fail half-way because
    another process wrote first. SQLite errors inside become ``StoreWriteError`` after a rollback;
    other exceptions roll back and propagate unchanged.
    """
    # Module constants read at call time, so tests (and the fault table) can shorten the waits.
    deadline_seconds = WRITE_DEADLINE_SECONDS if deadline_seconds is None else deadline_seconds
    if busy_timeout_ms is not None:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    try:
        deadline = time.monotonic() + deadline_seconds
        delay = 0.05
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.Error as exc:
                reason = write_failure_reason(exc)
                if reason != "locked" or time.monotonic() + delay > deadline:
                    raise StoreWriteError(path, reason, str(exc)) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        try:
            yield
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(conn)
            raise StoreWriteError(path, write_failure_reason(exc), str(exc)) from exc
        except BaseException:
            _rollback(conn)
            raise
    finally:
        if busy_timeout_ms is not None:
            with suppress(sqlite3.Error):
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


# -- clean and unclean shutdown -------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_file_stem(number: int) -> str:
    """``<pid>-<tag>-<number>``: the part of this process's file names between the database's name
    and the kind of file."""
    return f"{os.getpid()}-{PROCESS_TAG}-{number}"


def written_by_a_stopped_process(stem: str, pid_alive: Callable[[int], bool] = pid_alive) -> bool | None:
    """Whether the process that wrote a file named with ``stem`` (see ``process_file_stem``; files
    of older versions have no tag) has stopped; None when mockint writes no such name."""
    match = _PROCESS_FILE_STEM.fullmatch(stem)
    if match is None:
        return None
    pid = int(match["pid"])
    if pid == os.getpid():
        return match["tag"] != PROCESS_TAG
    return not pid_alive(pid)


def _stale_markers(path: Path) -> list[Path]:
    """Running markers of processes that are gone: each one is an unclean shutdown."""
    stale = []
    for marker in path.parent.glob(RUNNING_MARKER_GLOB.format(name=glob.escape(path.name))):
        stem = marker.name.removeprefix(f".{path.name}.").removesuffix(".running")
        if written_by_a_stopped_process(stem) is not False:  # a name mockint never writes is stale too
            stale.append(marker)
    return stale


def create_running_marker(path: Path) -> Path | None:
    """A file that exists while this process has the database open; removed on a clean close."""
    marker = path.parent / f".{path.name}.{process_file_stem(next(_marker_numbers))}.running"
    try:
        marker.touch()
    except OSError:
        return None  # without a marker an unclean shutdown goes unchecked; the database still works
    return marker


def close_cleanly(conn: sqlite3.Connection, marker: Path | None) -> None:
    """Fold the WAL into the main file (so copying mockint.db alone copies everything), then close."""
    with suppress(sqlite3.Error):
        conn.execute("PRAGMA busy_timeout = 1000")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    if marker is not None:
        with suppress(OSError):
            marker.unlink()


def backup_to(conn: sqlite3.Connection, target: Path) -> None:
    """Copy the live database to ``target`` with SQLite's online backup API (safe while in use)."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        destination = sqlite3.connect(str(partial))
        try:
            conn.backup(destination)
            destination.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            destination.close()
    except sqlite3.Error as exc:
        with suppress(OSError):
            partial.unlink()
        raise StoreError(f"cannot write the backup {target}: {exc}; choose a place with free space") from None
    os.replace(partial, target)
