"""Small terminals: the top bar never cuts a word, and the newest prompt stays readable."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from grader.store import Store
from grader.tui.widgets import FitLabel, TurnView, fit_words
from tests.tui.factory import SMALL, TINY, make_app
from tests.tui.helpers import answer, begin

LONG_PROMPT_ANSWER = "The model memorizes noise in the training data."


@pytest.mark.parametrize("width", range(0, 40))
def test_fit_words_never_cuts_a_word(width: int) -> None:
    full = "Round 1/2 · Technical screen: ML fundamentals, rapid fire"
    cut = fit_words(full, width)
    assert len(cut) <= width
    if cut and cut != full:
        assert cut.endswith("…")
        kept, words = cut[:-1].split(" "), full.split(" ")
        # Whole words only; the last may lose trailing punctuation ("screen:" -> "screen").
        assert kept[:-1] == words[: len(kept) - 1]
        assert words[len(kept) - 1].rstrip(":,·") == kept[-1]


@pytest.mark.parametrize("size", [SMALL, TINY, (60, 20), (120, 45)])
async def test_top_bar_and_prompt_fit_the_terminal(store: Store, size: tuple[int, int]) -> None:
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        await begin(pilot)
        await answer(pilot, LONG_PROMPT_ANSWER)
        screen = app.screen
        label = screen.query_one("#round-label", FitLabel)
        shown = str(label.render())
        full = label.variants[0]
        assert shown == full or shown in label.variants or (shown.endswith("…") and full.startswith(shown[:-1]))
        # Nothing in the top bar runs past the screen edge.
        for widget in screen.query_one("#topbar").children:
            assert widget.region.right <= size[0]
        # The newest prompt shows from its first line.
        transcript = screen.query_one("#transcript")
        prompt = [view for view in screen.query(TurnView) if view.role == "interviewer"][-1]
        assert transcript.scroll_y <= prompt.virtual_region.y
        assert prompt.region.y >= transcript.region.y
        box = screen.query_one("#answer", TextArea)
        if size[1] < 32:
            # The answer box gives up rows so the transcript keeps enough to read.
            assert box.outer_size.height <= 6
            assert transcript.size.height >= {SMALL: 14, TINY: 4, (60, 20): 10}[size]
