"""The TUI turns garbage collection back on once its first screen is painted, and what start-up
froze does not include the app's screens (grader.startup)."""

from __future__ import annotations

import gc
import weakref

from grader import startup
from grader.store import Store
from grader.tui.screens import BriefingScreen
from tests.tui.factory import SIZE, make_app
from tests.tui.helpers import begin


async def test_the_tui_resumes_collection_and_its_replaced_briefing_is_collected(store: Store) -> None:
    startup.pause_collection()
    try:
        assert not gc.isenabled()
        startup.freeze_start_up()  # as build_app does, before the app exists
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.pause()
            assert gc.isenabled()
            assert isinstance(app.screen, BriefingScreen)
            briefing = weakref.ref(app.screen)
            await begin(pilot)
            assert not isinstance(app.screen, BriefingScreen)
            gc.collect()
            # Frozen after its first paint, the briefing's widget tree would never be collected.
            assert briefing() is None
    finally:
        startup.resume_collection()
        gc.unfreeze()
        gc.enable()
