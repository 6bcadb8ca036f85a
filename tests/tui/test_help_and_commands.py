"""F1 / ? help, the command palette's mockint commands, and visible focus."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import TextArea

from grader.store import Store
from grader.tui.dialogs import HelpScreen
from grader.tui.screens import InterviewScreen, ReviewScreen
from tests.tui.factory import SIZE, make_app
from tests.tui.helpers import answer, begin, settle, skip

NOISE_ONLY = "The model memorizes noise in the training data."


async def test_question_mark_types_in_the_box_and_f1_lists_the_keys_that_work(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await pilot.press("question_mark")
        assert app.screen.query_one("#answer", TextArea).text == "?"
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        sections = dict(app.screen.sections)
        assert list(sections) == ["This screen", "Everywhere", "Focused: the answer box"]
        assert ("^s", "Submit answer") in sections["This screen"]
        assert ("^n", "Skip question") in sections["This screen"]
        assert ("^q", "Quit") in sections["Everywhere"]
        assert ("^z", "Undo") in sections["Focused: the answer box"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)


async def test_help_in_practice_feedback_lists_next_and_retry(store: Store) -> None:
    app = make_app(store, mode="practice")
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await answer(pilot, NOISE_ONLY)
        await pilot.press("question_mark")  # the transcript has the focus: ? opens the help
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.sections)["This screen"]
        assert ("⏎", "Next question") in keys and ("^r", "Retry question") in keys
        assert not any(description == "Submit answer" for _, description in keys)


async def _run_command(pilot, text: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*text)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()


async def test_palette_jumps_to_a_question_in_review(store: Store) -> None:
    app = make_app(store, round_ids=["screen"])
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await skip(pilot)
        await answer(pilot, "It adds a penalty on the squared weights to the loss.")
        await settle(pilot)
    review = make_app(store, purpose="review", session_id=app.session_id)
    async with review.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        screen = review.screen
        assert isinstance(screen, ReviewScreen)
        transcript = screen.query_one("#review-transcript")
        assert transcript.scroll_y == 0
        await _run_command(pilot, "jump to question 2")
        assert transcript.scroll_y > 0
        second = [v for v in transcript.query("TurnView") if v.kind == "question"][1]
        assert transcript.scroll_y == second.virtual_region.y


async def test_palette_exports_the_session_and_switches_theme(store: Store, tmp_path) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        await answer(pilot, NOISE_ONLY)
        await _run_command(pilot, "export this session")
        theme = app.theme
        await _run_command(pilot, "theme switch")
        assert app.theme != theme
    exported = tmp_path / "home" / "exports" / f"{app.session_id}.md"
    text = exported.read_text()
    assert text.startswith("# Acme mock interview") and NOISE_ONLY in text


async def test_focus_is_visible_on_the_answer_box(store: Store) -> None:
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot)
        box = app.screen.query_one("#answer", TextArea)
        focused_border = box.styles.border_top
        await pilot.press("shift+tab")
        await pilot.pause()
        assert not box.has_focus
        assert box.styles.border_top != focused_border
