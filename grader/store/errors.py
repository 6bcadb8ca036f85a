"""What can go wrong with mockint.db, each as one line that says what happened and what to do.

The CLI prints ``str(error)`` and exits 2; the TUI shows it and keeps the candidate's words. Kept
free of sqlite imports so callers can name these errors without loading the database code.
"""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """mockint.db cannot be used as asked; the message is one line, ending with the fix."""


class StoreOpenError(StoreError):
    """The database (or its folder) cannot be opened: missing, not a database, damaged, locked."""


class SchemaTooNewError(StoreOpenError):
    """The database was written by a newer mockint whose schema this version does not know."""


class StoreWriteError(StoreError):
    """A write failed even after waiting for the lock and retrying; nothing was changed.

    ``reason`` is one of ``locked``, ``full``, ``read-only``, ``io`` or ``other``; ``fix`` says
    what the user can do about it.
    """

    def __init__(self, path: Path, reason: str, detail: str) -> None:
        self.path = path
        self.reason = reason
        self.detail = detail
        self.fix = WRITE_FIXES.get(reason, WRITE_FIXES["other"]).format(path=path, folder=path.parent)
        super().__init__(f"could not save to {path}: {WRITE_WHAT.get(reason, detail)}; {self.fix}")


WRITE_WHAT = {
    "locked": "the database is locked by another process",
    "full": "the disk is full",
    "read-only": "the database is read-only",
    "io": "the disk reported an I/O error",
}
WRITE_FIXES = {
    "locked": "close the other mockint (or whatever program has {path} open) and try again",
    "full": "free some disk space on the drive holding {folder} and try again",
    "read-only": "make {path} and {folder} writable (chmod u+w) or point MOCKINT_HOME at a writable folder",
    "io": "check the drive holding {folder}; copy {path} elsewhere with `mockint backup` if you can",
    "other": "try again; if it persists, copy {path} elsewhere with `mockint backup`",
}
