"""Pilot tests of the coding round: the editor, runs in the sandbox, the talk-through and resume.

Uses the codeco test pack (a copy of pinterest.coding.top-k-frequent with a 1 s CPU limit) and the
same candidate solutions as the ``mockint code run`` tests, so both paths assert the same outcomes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Label, TextArea

from grader.store import Store
from grader.tui.coding_screen import CodingScreen
from grader.tui.screens import InterviewScreen
from tests.coding import solutions
from tests.tui.factory import SIZE, make_app
from tests.tui.helpers import answer, begin, settle, transcript_texts

QUESTION_ID = "codeco.coding.top-k-frequent"
TALK_THROUGH = (
    "I count with a hash map, a Counter, in one pass which is O(n). Then a heap of size k keeps the k most "
    "frequent, so the selection is O(n log k) instead of sorting in O(n log n)."
)


def coding_app(store: Store, mode: str = "interview"):
    return make_app(store, company="codeco", round_ids=["coding"], mode=mode)


async def open_editor(pilot: Pilot) -> CodingScreen:
    await begin(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CodingScreen), f"expected the code editor, got {screen!r}"
    return screen


async def run_code(pilot: Pilot, code: str, key: str) -> CodingScreen:
    screen = pilot.app.screen
    assert isinstance(screen, CodingScreen)
    screen.query_one("#code-editor", TextArea).text = code
    await pilot.press(key)
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def status_text(screen: CodingScreen) -> str:
    return str(screen.query_one("#coding-status", Label).render())


def table_rows(screen: CodingScreen) -> list[list[str]]:
    table = screen.query_one("#coding-results", DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def test_correct_solution_run_submit_then_talk_through_is_graded(store: Store) -> None:
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        editor = screen.query_one("#code-editor", TextArea)
        assert editor.language == "python" and "def top_k_frequent" in editor.text  # the starter code

        await run_code(pilot, solutions.CORRECT, "f5")
        assert status_text(screen).startswith("3/3 examples passed")
        assert [row[2] for row in table_rows(screen)] == ["pass"] * 3
        assert table_rows(screen)[0][4] == "[1, 1, 1, 2, 2, 3], 2"  # public: the input is shown

        await run_code(pilot, solutions.CORRECT, "ctrl+s")
        assert status_text(screen).startswith("10/10 tests passed")
        rows = table_rows(screen)
        assert len(rows) == 10 and all(row[2] == "pass" for row in rows)
        assert all(row[4] == "(hidden)" for row in rows[3:]), "hidden tests show no input"
        assert all(row[3].endswith(" ms") for row in rows)

        await pilot.press("ctrl+t")
        await settle(pilot)
        interview = app.screen
        assert isinstance(interview, InterviewScreen)
        role, text = transcript_texts(app)[-1]
        assert role == "interviewer" and text.startswith("Submitted: 10/10 tests passed")
        assert "time and space complexity" in text

        await answer(pilot, TALK_THROUGH)
        # Graded against the question's points: bucket sort and the streaming follow-up were missed,
        # so the interviewer probes the heaviest missed point, as in any round.
        assert interview.step is not None and interview.step.kind == "probe"
        assert interview.step.probe_point_id == "bucket-sort-linear"

    session = store.sessions()[0]
    runs = store.code_runs(session.id)
    assert [(run.kind, run.passed, run.total) for run in runs] == [("examples", 3, 3), ("submit", 10, 10)]
    assert runs[-1].code == solutions.CORRECT
    graded = [g for g in store.latest_grades(session.id).values() if g.question_id == QUESTION_ID]
    assert graded and {p.point_id for p in graded[0].covered} >= {"count-hash-map", "heap-n-log-k"}
    evidence = {p.point_id: p.evidence for p in graded[0].covered}
    assert "heap of size k" in (evidence["heap-n-log-k"] or "")


OUTCOMES = {
    "wrong": (solutions.WRONG, "failed", "expected [1, 2], got [1, 1]"),
    "memory bomb": (solutions.MEMORY_BOMB, "memory", "ran out of memory"),
    "fork bomb": (solutions.FORK_BOMB, "error", "Resource temporarily unavailable"),
    "huge output": (solutions.HUGE_OUTPUT, "output", "printed more than 1 MB"),
    "prints instead of returning": (solutions.PRINTS_INSTEAD, "failed", "return the answer instead of printing it"),
}


@pytest.mark.parametrize("name", sorted(OUTCOMES))
async def test_each_failure_is_shown_with_the_first_failing_case(name: str, store: Store) -> None:
    code, status, message = OUTCOMES[name]
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        await run_code(pilot, code, "ctrl+s")
        report = screen.last_submission
        assert report is not None and not report.all_passed
        first = report.first_failure
        assert first is not None and first.number == 1 and first.status == status and message in first.message
        assert message in status_text(screen)
        assert table_rows(screen)[0][2] == first.status_word
    run = store.code_runs(store.sessions()[0].id)[-1]
    assert run.kind == "submit" and not run.all_passed and run.code == code


@pytest.mark.parametrize(("code", "says"), [(solutions.SYNTAX_ERROR, "SyntaxError: expected ':' (solution.py line 1)"),
                                            (solutions.ENDLESS_LOOP, "CPU time")])
async def test_code_that_never_reaches_the_tests_says_why_in_one_line(code: str, says: str, store: Store) -> None:
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        await run_code(pilot, code, "ctrl+s")
        assert screen.last_submission is not None and screen.last_submission.error is not None
        assert says in status_text(screen)
        assert all(row[2] == "not run" for row in table_rows(screen))


async def test_an_endless_loop_runs_while_the_editor_stays_responsive(store: Store) -> None:
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        editor = screen.query_one("#code-editor", TextArea)
        editor.text = "def top_k_frequent(nums, k):\n    while True:\n        pass\n"
        editor.move_cursor(editor.document.end)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.running == "submit"
        await pilot.press("#", " ", "o", "k")  # typing goes on while the sandbox runs
        await pilot.pause()
        assert screen.running == "submit" and editor.text.endswith("# ok")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.running is None
        first = screen.last_submission.first_failure if screen.last_submission else None
        assert first is not None and first.status == "timeout" and "CPU time" in first.message


async def test_deleting_a_file_outside_the_sandbox_from_the_editor_leaves_it(store: Store, tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        await run_code(pilot, solutions.deletes(victim), "ctrl+s")
        assert screen.last_submission is not None
        assert "Read-only file system" in (screen.last_submission.error or "")
    assert victim.read_text() == "keep me"


async def test_talk_through_needs_a_submission_and_skip_asks_first(store: Store) -> None:
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        await pilot.press("ctrl+t")  # no submission yet: nothing happens
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
    kinds = [(t.role, t.kind) for t in store.turns(store.sessions()[0].id)]
    assert ("candidate", "skip") in kinds


async def test_the_editor_draft_is_saved_while_typing_and_restored_on_resume(store: Store) -> None:
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        screen.query_one("#code-editor", TextArea).text = solutions.WRONG
        await pilot.pause(1.0)  # past the debounce: saved without any run or quit
        session_id = app.session_id or ""
    assert store.code_draft(session_id, QUESTION_ID) == solutions.WRONG

    resumed = make_app(store, company="codeco", session_id=session_id)
    async with resumed.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = resumed.screen
        assert isinstance(screen, CodingScreen)
        assert screen.query_one("#code-editor", TextArea).text == solutions.WRONG
    prompts = [t for t in store.turns(session_id) if t.kind == "question"]
    assert len(prompts) == 1, "resume does not ask the coding question again"


async def test_resume_after_the_talk_through_was_asked_goes_to_the_answer_box(store: Store) -> None:
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        await run_code(pilot, solutions.CORRECT, "ctrl+s")
        await pilot.press("ctrl+t")
        await settle(pilot)
        session_id = app.session_id or ""
    resumed = make_app(store, company="codeco", session_id=session_id)
    async with resumed.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(resumed.screen, InterviewScreen)
        assert resumed.screen.query_one("#answer", TextArea).has_focus
        assert transcript_texts(resumed)[-1][1].startswith("Submitted: 10/10 tests passed")


async def test_runs_and_the_talk_through_grade_reach_the_report_review_and_export(monkeypatch, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from grader.cli import cli
    from grader.tui.report_view import ReportView
    from grader.tui.screens import ReportScreen, ReviewScreen
    from tests.tui.factory import packs_dir

    store = Store()  # the default database, the one `mockint export` reads
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)
        await run_code(pilot, solutions.WRONG, "ctrl+s")
        await run_code(pilot, solutions.CORRECT, "f5")
        await run_code(pilot, solutions.CORRECT, "ctrl+s")
        await pilot.press("ctrl+t")
        await settle(pilot)
        await answer(pilot, TALK_THROUGH)
        await answer(pilot, "Bucket sort by frequency gives linear time, because a frequency is at most n.")
        await answer(pilot, "I am not sure.")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        section = app.screen.query_one(ReportView).coding_markdown
        session_id = app.session_id or ""
    assert f"| `{QUESTION_ID}` | 10/10 tests passed in " in section
    assert "| 2 | 1 |" in section, "two submissions, one run of the examples"
    assert "return [value for value, _ in Counter(nums).most_common(k)]" in section

    review = make_app(store, company="codeco", session_id=session_id, purpose="review")
    async with review.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(review.screen, ReviewScreen)
        assert "10/10 tests passed" in review.screen.query_one(ReportView).coding_markdown
        texts = [text for _, text in transcript_texts(review)]
        assert any(text.startswith("Submitted: 10/10 tests passed") for text in texts)
    store.close()

    monkeypatch.setenv("MOCKINT_RUBRICS", str(packs_dir()))
    markdown = CliRunner().invoke(cli, ["export", session_id, "--format", "md"])
    assert markdown.exit_code == 0, markdown.output
    assert "## Coding" in markdown.output and "10/10 tests passed" in markdown.output
    assert "```python" in markdown.output
    exported = json.loads(CliRunner().invoke(cli, ["export", session_id, "--format", "json"]).stdout)
    summary = exported["coding"]["questions"][0]
    assert (summary["question_id"], summary["passed"], summary["total"], summary["submissions"]) == (
        QUESTION_ID, 10, 10, 2)
    assert summary["talk_through_grade"] is not None
    runs = exported["coding"]["runs"]
    assert [run["kind"] for run in runs] == ["submit", "examples", "submit"]
    assert runs[0]["report"]["outcomes"][0]["message"].startswith("expected [1, 2], got [1, 1]")
    assert all(run["report"]["outcomes"][0]["runtime_ms"] is not None for run in runs)


async def test_enter_keeps_the_indentation_and_indents_after_a_colon(store: Store) -> None:
    app = coding_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        editor = screen.query_one("#code-editor", TextArea)
        editor.text = ""
        await pilot.press(*"def f(x):", "enter", *"if x:", "enter", *"return 1", "enter", *"y")
        assert editor.text == "def f(x):\n    if x:\n        return 1\n        y"
        await pilot.press("ctrl+z")
        assert editor.text != "def f(x):\n    if x:\n        return 1\n        y", "undo works on the editor"
