"""The store is the only code that touches SQL; the interview runs without a database or a terminal."""

import re
import subprocess
import sys
from pathlib import Path

GRADER = Path(__file__).resolve().parents[2] / "grader"
SQL_IMPORT = re.compile(r"^\s*(from|import)\s+(sqlite_utils|sqlite3)\b", re.MULTILINE)


def test_only_the_store_imports_sqlite():
    offenders = [
        str(path.relative_to(GRADER))
        for path in GRADER.rglob("*.py")
        if "store" not in path.relative_to(GRADER).parts[:1] and SQL_IMPORT.search(path.read_text())
    ]
    assert offenders == []


def test_interview_and_report_load_without_sql_or_textual():
    code = (
        "import sys, grader.interview, grader.interview.report\n"
        "loaded = sorted(m for m in ('sqlite_utils', 'textual', 'grader.store') if m in sys.modules)\n"
        "print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_store_loads_without_numpy_and_leaves_it_importable():
    # numpy would cost the interview's first screen about 50 ms; sqlite-utils imports it only for
    # column types of tables created from values, which the store never does.
    code = (
        "import sys, grader.store\n"
        "print(','.join(sorted(m for m in ('numpy', 'pandas') if m in sys.modules)))\n"
        "import numpy\n"
        "from grader.store import Store\n"
        "print(numpy.zeros(2).sum())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0.0"]
