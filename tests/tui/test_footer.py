"""The key footer: it follows the keys the screen offers, and is rebuilt only when they change."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from grader.store import Store
from grader.tui.screens import InterviewScreen
from grader.tui.widgets import KeyFooter
from tests.tui.factory import SIZE, make_app
from tests.tui.helpers import answer, begin

NOISE_ONLY = "The model memorizes noise in the training data."


def footer_keys(screen: InterviewScreen) -> list[FooterKey]:
    return list(screen.query_one(KeyFooter).query(FooterKey))


def enabled_descriptions(screen: InterviewScreen) -> set[str]:
    return {key.description for key in footer_keys(screen) if not key.disabled}


async def test_footer_shows_the_keys_of_each_phase(store: Store) -> None:
    app = make_app(store, mode="practice")
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        answering = enabled_descriptions(screen)
        assert {"Submit answer", "Skip question"} <= answering
        assert "Next question" not in answering

        await answer(pilot, NOISE_ONLY)
        await pilot.pause()
        assert screen.phase == "feedback"
        feedback = enabled_descriptions(screen)
        assert {"Next question", "Retry question"} <= feedback
        assert "Submit answer" not in feedback


async def test_footer_is_not_rebuilt_when_its_keys_are_unchanged(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        screen = app.screen
        assert isinstance(screen, InterviewScreen)
        before = footer_keys(screen)
        assert before
        # A bindings signal with nothing changed (as a focus change or a phase check sends): Textual's
        # own footer would mount a fresh key widget for every key.
        screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        after = footer_keys(screen)
        assert [id(key) for key in after] == [id(key) for key in before]
