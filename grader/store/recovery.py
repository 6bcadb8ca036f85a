"""The plain-text safety net beside mockint.db: words that could not be saved to the database.

Two files, both next to the database:

- ``mockint-recovery.txt``: appended to whenever an answer or draft could not be written (disk
  full, database locked for too long, read-only). Anyone can open it in an editor.
- ``.mockint.db.<pid>-<tag>-<n>.pending``: written (and synced) just before an answer goes to the
  database and removed once it is committed. ``<tag>`` is random per process: a new process that
  happens to get a killed one's pid (every start, in some containers) must neither overwrite its
  file nor take it for its own. If the process is killed in between, the next
  mockint that opens the database finds it, checks whether the answer made it in, and if not
  appends it to the recovery file. So even ``kill -9`` during a locked-database wait loses nothing.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.store.database import process_file_stem, written_by_a_stopped_process

RECOVERY_FILENAME = "mockint-recovery.txt"
_pending_numbers = itertools.count()
PARTIAL_SUFFIX = ".partial"


def recovery_path(db_path: Path) -> Path:
    return db_path.parent / RECOVERY_FILENAME


def append_recovery(db_path: Path, *, session_id: str, what: str, text: str, reason: str) -> Path:
    """Append ``text`` to the recovery file, synced to disk; the file's path. Raises OSError."""
    target = recovery_path(db_path)
    stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    block = (
        f"=== {stamp} · session {session_id} · {what}\n"
        f"=== not saved to {db_path.name}: {reason}\n"
        f"{text.rstrip()}\n\n"
    )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, block.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return target


def write_pending(db_path: Path, record: dict[str, Any]) -> Path | None:
    """Record a write about to be attempted; None if even that file cannot be written.

    Written under a temporary name and renamed into place, so a ``.pending`` file is always whole:
    a process killed between creating the file and writing it would otherwise leave an empty one,
    which the next run could only throw away.
    """
    name = f".{db_path.name}.{process_file_stem(next(_pending_numbers))}.pending"
    target = db_path.parent / name
    partial = target.with_name(name + PARTIAL_SUFFIX)
    try:
        # ASCII JSON: any text, even a lone surrogate a terminal let through, reads back exactly.
        data = json.dumps(record).encode("ascii")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            written = 0
            while written < len(data):  # os.write may take less than all of it (a nearly full disk)
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, target)
    except OSError:
        clear_pending(partial)
        return None
    return target


def clear_pending(marker: Path | None) -> None:
    if marker is not None:
        with contextlib.suppress(OSError):
            marker.unlink()


def recover_pending(db_path: Path, is_saved: Callable[[dict[str, Any]], bool],
                    pid_alive: Callable[[int], bool]) -> list[str]:
    """Move answers of killed processes that never reached the database into the recovery file.

    ``is_saved`` says whether the database has the record after all (killed after the commit).
    Returns one notice per recovered answer.
    """
    notices = []
    # A ``.partial`` file is one its process was killed while writing: whole records in one are
    # recovered too (killed between the sync and the rename); torn ones hold nothing to recover.
    prefix = f".{glob.escape(db_path.name)}."
    markers = sorted(db_path.parent.glob(f"{prefix}*.pending"))
    markers += sorted(db_path.parent.glob(f"{prefix}*.pending{PARTIAL_SUFFIX}"))
    for marker in markers:
        stem = marker.name.removeprefix(f".{db_path.name}.").removesuffix(PARTIAL_SUFFIX).removesuffix(".pending")
        # Still being written or committed by a running process, or a name mockint does not write
        # (another database's file, say): left alone.
        if not written_by_a_stopped_process(stem, pid_alive):
            continue
        try:
            record = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict) and isinstance(record.get("text"), str) and not is_saved(record):
            try:
                target = append_recovery(db_path, session_id=str(record.get("session_id", "?")),
                                         what=f"{record.get('kind', 'answer')} to {record.get('question_id', '?')}",
                                         text=record["text"], reason="mockint stopped before it was saved")
            except OSError:
                continue  # keep the pending file: it still holds the words
            notices.append(f"an answer that a stopped mockint had not saved was put in {target}")
        clear_pending(marker)
    return notices
