"""sqlite-utils, imported once for the whole store without numpy or pandas.

sqlite-utils imports numpy and pandas, if installed, only to map their scalar types to column types
when it creates a table from values; every table here is created by a migration. numpy costs about
50 ms of the interview's first second (benchmarks/tui_latency.py), pandas several times that, and the
grader imports numpy anyway, later and off the UI thread. A ``None`` in ``sys.modules`` makes
``import`` raise ImportError, which sqlite-utils takes as "not installed"; the entries are removed
again at once, so any later ``import numpy`` works as usual.

``sys.modules`` is shared by every thread, so this module must be first imported before any thread
that could import numpy starts: ``grader.store`` is imported at module level by everything that
uses it (the TUI imports it before its grading threads exist).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING


def _import_sqlite_utils() -> tuple[type, type]:
    """sqlite-utils' ``Database`` and ``Migrations``, imported with numpy and pandas unavailable."""
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        from sqlite_utils import Database
        from sqlite_utils.migrations import Migrations
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return Database, Migrations


if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations
else:
    Database, Migrations = _import_sqlite_utils()

__all__ = ["Database", "Migrations"]
