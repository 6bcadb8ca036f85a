"""Start-up without garbage-collection passes.

Importing the command line, Textual and pydantic and loading a pack create a few hundred thousand
objects and no garbage, yet the collector walks them again and again while they are being made:
about 70 ms of the second before the interview's first screen (benchmarks/tui_latency.py, launch to
briefing 0.92 s against 1.00 s). The ``mockint`` script pauses the collector on entry. Resuming
freezes everything made so far, so later passes skip it (which also keeps the TUI's own
collections short), and turns the collector back on: for the TUI once its first screen is painted,
for every other command as soon as the command is chosen.
"""

from __future__ import annotations

import gc

_paused = False


def pause_collection() -> None:
    """Turn the collector off until ``resume_collection`` (nothing happens if it is already off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Freeze what start-up made and turn the collector back on, if ``pause_collection`` turned it off."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
