"""Storage: the only code that touches SQL. Sessions, turns and grades in ``mockint.db``."""

from grader.store.clocks import SessionClock
from grader.store.code_runs import CodeRunRecord
from grader.store.errors import SchemaTooNewError, StoreError, StoreOpenError, StoreWriteError
from grader.store.records import STATUS_ACTIVE, STATUS_FINISHED, PointHistoryRow, SessionRecord, TurnRecord
from grader.store.store import DB_FILENAME, SessionNotFoundError, Store, default_db_path

__all__ = [
    "DB_FILENAME",
    "STATUS_ACTIVE",
    "STATUS_FINISHED",
    "CodeRunRecord",
    "PointHistoryRow",
    "SchemaTooNewError",
    "SessionClock",
    "SessionNotFoundError",
    "SessionRecord",
    "Store",
    "StoreError",
    "StoreOpenError",
    "StoreWriteError",
    "TurnRecord",
    "default_db_path",
]
