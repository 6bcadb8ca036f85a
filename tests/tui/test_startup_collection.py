"""The TUI turns garbage collection back on once its first screen is painted (grader.startup)."""

from __future__ import annotations

import gc

from grader import startup
from grader.store import Store
from tests.tui.factory import SIZE, make_app


async def test_the_tui_turns_the_collector_back_on_after_its_first_screen(store: Store) -> None:
    startup.pause_collection()
    try:
        assert not gc.isenabled()
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    finally:
        startup.resume_collection()
        gc.unfreeze()
        gc.enable()
