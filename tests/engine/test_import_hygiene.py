"""The grading core must run without the terminal UI, the database layer or the CLI."""

import subprocess
import sys
from pathlib import Path

import pytest

ENGINE_MODULES = [
    "grader.engine.rubric", "grader.engine.loader", "grader.engine.encoder", "grader.engine.grading",
    "grader.engine.calibration", "grader.engine.fitting", "grader.engine.transcripts", "grader.engine.text",
    "grader.engine.schema", "grader.engine.coding", "grader.coding.runner", "grader.coding.sandbox",
    "grader.coding.checks",
]
FORBIDDEN = ["textual", "sqlite_utils", "click", "grader.tui", "grader.store", "grader.interview", "grader.cli"]


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_module_imports_no_ui_or_database(module):
    code = (
        f"import sys, {module}; "
        f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"{module} pulled in {loaded}"


def test_import_linter_contract_holds():
    pytest.importorskip("importlinter")
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout
