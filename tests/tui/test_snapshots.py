"""How the screens look, at 100x32 with a frozen clock, fixed session ids and no cursor blink.

Update after looking at the report: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot

import grader.store.store as store_module
from grader.store import Store
from tests.tui.factory import SIZE, SMALL, TINY, broken_encoder, make_app
from tests.tui.helpers import answer, begin, settle, skip

NOISE_ONLY = "The model memorizes noise in the training data."
GOOD_L2 = "It adds a penalty on the squared weights to the loss.\nIt shrinks the weights toward zero."


@pytest.fixture(autouse=True)
def _fixed_ids_and_times(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Session ids and timestamps come from the clock; pin them so the screens are the same every run."""
    counter = itertools.count(1)
    monkeypatch.setattr(store_module, "_session_id", lambda: f"20260101-090000-{next(counter):04x}")
    monkeypatch.setattr(store_module, "_now", lambda: "2026-01-01T09:00:00.000000+00:00")
    yield


def _run(*steps: Callable[[Pilot], object]) -> Callable[[Pilot], object]:
    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        for step in steps:
            await step(pilot)  # type: ignore[misc]
        await settle(pilot)

    return run_before


def test_briefing(snap_compare, store: Store) -> None:
    assert snap_compare(make_app(store), terminal_size=SIZE, run_before=_run())


def test_first_question(snap_compare, store: Store) -> None:
    assert snap_compare(make_app(store), terminal_size=SIZE, run_before=_run(begin))


def test_probe_after_a_partial_answer(snap_compare, store: Store) -> None:
    async def partial(pilot: Pilot) -> None:
        await answer(pilot, NOISE_ONLY)

    assert snap_compare(make_app(store), terminal_size=SIZE, run_before=_run(begin, partial))


def test_practice_feedback(snap_compare, store: Store) -> None:
    async def misconception(pilot: Pilot) -> None:
        await answer(pilot, NOISE_ONLY + " Overfitting is when the model is too simple.")

    assert snap_compare(make_app(store, mode="practice"), terminal_size=SIZE, run_before=_run(begin, misconception))


def test_practice_feedback_at_80x24_opens_at_the_grade(snap_compare, store: Store) -> None:
    async def misconception(pilot: Pilot) -> None:
        await answer(pilot, NOISE_ONLY + " Overfitting is when the model is too simple.")

    app = make_app(store, mode="practice")
    assert snap_compare(app, terminal_size=SMALL, run_before=_run(begin, misconception))


def test_practice_feedback_model_answer_at_80x24(snap_compare, store: Store) -> None:
    """The end of the panel: the model answer rendered as Markdown (bold, a list, reflowed)."""

    async def misconception(pilot: Pilot) -> None:
        await answer(pilot, NOISE_ONLY + " Overfitting is when the model is too simple.")
        await pilot.press("end")

    app = make_app(store, mode="practice")
    assert snap_compare(app, terminal_size=SMALL, run_before=_run(begin, misconception))


def test_grading_unavailable(snap_compare, store: Store) -> None:
    app = make_app(store, encoder_factory=broken_encoder)
    assert snap_compare(app, terminal_size=SIZE, run_before=_run(begin))


def test_quit_confirmation(snap_compare, store: Store) -> None:
    async def quit_(pilot: Pilot) -> None:
        await pilot.press("h", "i", "ctrl+q")

    assert snap_compare(make_app(store), terminal_size=SIZE, run_before=_run(begin, quit_))


async def _whole_interview(pilot: Pilot) -> None:
    await answer(pilot, NOISE_ONLY)
    await answer(pilot, "Training error is low but test error is high.")
    await answer(pilot, "Not sure.")
    await answer(pilot, GOOD_L2)
    await skip(pilot)


def test_report(snap_compare, store: Store) -> None:
    assert snap_compare(make_app(store), terminal_size=SIZE, run_before=_run(begin, _whole_interview))


def _finished_session(store: Store) -> str:
    import asyncio

    app = make_app(store)

    async def drive() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await begin(pilot)
            await _whole_interview(pilot)

    asyncio.run(drive())
    assert app.session_id is not None
    return app.session_id


def test_history(snap_compare, store: Store) -> None:
    _finished_session(store)
    store.create_session("acme", "practice", ["design"])
    app = make_app(store, purpose="history")
    assert snap_compare(app, terminal_size=SIZE, run_before=_run())


def test_review_transcript(snap_compare, store: Store) -> None:
    session_id = _finished_session(store)
    app = make_app(store, purpose="review", session_id=session_id)
    assert snap_compare(app, terminal_size=SIZE, run_before=_run())


def test_probe_at_80x24(snap_compare, store: Store) -> None:
    """tmux's default size: the top bar abbreviates without cutting a word, the transcript keeps its rows."""

    async def partial(pilot: Pilot) -> None:
        await answer(pilot, NOISE_ONLY)

    assert snap_compare(make_app(store), terminal_size=SMALL, run_before=_run(begin, partial))


def test_question_at_40x12(snap_compare, store: Store) -> None:
    """A split pane: the newest prompt is readable from its first line, the answer box shrinks."""

    async def partial(pilot: Pilot) -> None:
        await answer(pilot, NOISE_ONLY)

    assert snap_compare(make_app(store), terminal_size=TINY, run_before=_run(begin, partial))


def test_report_at_80x24(snap_compare, store: Store) -> None:
    assert snap_compare(make_app(store), terminal_size=SMALL, run_before=_run(begin, _whole_interview))


def test_help_at_80x24(snap_compare, store: Store) -> None:
    async def help_(pilot: Pilot) -> None:
        await pilot.press("f1")

    assert snap_compare(make_app(store), terminal_size=SMALL, run_before=_run(begin, help_))
