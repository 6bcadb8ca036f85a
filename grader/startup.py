"""Start-up without garbage-collection passes.

Importing the command line, Textual and pydantic and loading a pack create a few hundred thousand
objects and no garbage, yet the collector walks them again and again while they are being made:
about 70 ms of the second before the interview's first screen (benchmarks/tui_latency.py, launch to
briefing 0.92 s against 1.00 s). The ``mockint`` script pauses the collector on entry.
``freeze_start_up`` moves what start-up made (modules, the pack) out of later passes, which also
keeps the TUI's own collections short: other commands call it as soon as they are chosen, the TUI
just before its app is built, so the app's screens, which do become garbage, stay collectable.
``resume_collection`` turns the collector back on: at once for other commands, once the first
screen is painted for the TUI.
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


def freeze_start_up() -> None:
    """Exclude everything made so far from later passes, if ``pause_collection`` paused them."""
    if _paused:
        gc.freeze()


def resume_collection() -> None:
    """Turn the collector back on, if ``pause_collection`` turned it off."""
    global _paused
    if _paused:
        _paused = False
        gc.enable()
