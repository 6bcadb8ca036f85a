"""How the coding screen looks: the problem, the editor, and a failed submission's table (100x32).

Run times are pinned to 0.1 ms (everything else is real: the sandbox runs the code), so the
rendering is the same every run. Update after looking: ``--snapshot-update`` on this file only.
"""

from __future__ import annotations

import dataclasses

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

import grader.coding.runner as runner_module
from grader.store import Store
from tests.coding import solutions
from tests.tui.factory import SIZE, make_app
from tests.tui.helpers import begin, settle
from tests.tui.test_snapshots import _fixed_ids_and_times  # noqa: F401  (autouse: pinned ids and times)


@pytest.fixture(autouse=True)
def _pinned_runtimes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = runner_module.run_code

    def pinned(*args, **kwargs):  # type: ignore[no-untyped-def]
        report = real(*args, **kwargs)
        outcomes = [dataclasses.replace(o, runtime_ms=0.1 if o.runtime_ms is not None else None)
                    for o in report.outcomes]
        return dataclasses.replace(report, outcomes=outcomes, wall_seconds=0.0)

    monkeypatch.setattr(runner_module, "run_code", pinned)


def _app(store: Store):
    return make_app(store, company="codeco", round_ids=["coding"])


def test_coding_screen_with_the_starter_code(snap_compare, store: Store) -> None:
    async def open_editor(pilot: Pilot) -> None:
        await begin(pilot)

    assert snap_compare(_app(store), terminal_size=SIZE, run_before=open_editor)


def test_coding_screen_after_a_wrong_submission(snap_compare, store: Store) -> None:
    async def submit_wrong(pilot: Pilot) -> None:
        await begin(pilot)
        pilot.app.screen.query_one("#code-editor", TextArea).text = solutions.WRONG
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)

    assert snap_compare(_app(store), terminal_size=SIZE, run_before=submit_wrong)
