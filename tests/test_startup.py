"""`mockint` starts with garbage collection paused and turns it back on: at once for commands, once
the first screen is painted for the TUI (grader.startup)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

AFTER_COMMAND = """
import gc, sys
from grader.__main__ import main
sys.argv = ["mockint", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(gc.isenabled(), gc.get_freeze_count() > 0)
"""


def run_mockint_in_process(*args: str) -> str:
    done = subprocess.run([sys.executable, "-c", AFTER_COMMAND, *args], cwd=REPO, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip().splitlines()[-1]


def test_a_command_runs_with_the_collector_back_on_and_start_up_frozen():
    assert run_mockint_in_process("questions", "--company", "pinterest") == "True True"


def test_a_tui_command_that_never_opens_the_tui_leaves_it_paused_only_until_exit():
    # `start` resumes once its first screen is painted; refused before that (no terminal here), the
    # process ends with the collector still paused, which costs nothing.
    assert run_mockint_in_process("start", "--company", "pinterest") == "False False"
