"""sqlite-utils, imported once for the whole store without numpy or pandas.

sqlite-utils imports numpy and pandas, if installed, only to map their scalar types to column types
when it creates a table from values; every table here is created by a migration. numpy costs about
50 ms of the interview's first second (benchmarks/tui_latency.py), pandas several times that, and the
grader imports numpy anyway, later and off the UI thread. A ``None`` in ``sys.modules`` makes
``import`` raise ImportError, which sqlite-utils takes as "not installed"; the entries are removed
again at once, so any later ``import numpy`` works as usual.
"""

from __future__ import annotations

import sys

_blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
for _name in _blocked:
    sys.modules[_name] = None  # type: ignore[assignment]
try:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations
finally:
    for _name in _blocked:
        if _name in sys.modules and sys.modules[_name] is None:
            del sys.modules[_name]

__all__ = ["Database", "Migrations"]
