"""``mockint code run`` on each outcome of the acceptance list: exit codes, verdicts, and no harm done."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from grader.cli import cli
from tests.coding import solutions


def code_run(tmp_path: Path, source: str, *extra: str) -> tuple[int, dict]:
    path = tmp_path / "solution.py"
    path.write_text(source)
    result = CliRunner().invoke(cli, ["code", "run", solutions.QUESTION_ID, "--file", str(path), "--json", *extra])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def statuses(report: dict) -> list[str]:
    return [outcome["status"] for outcome in report["outcomes"]]


def test_correct_solution_passes_every_test(tmp_path):
    code, report = code_run(tmp_path, solutions.CORRECT)
    assert code == 0
    assert report["all_passed"] and report["passed"] == report["total"] >= 10
    assert set(statuses(report)) == {"passed"}


def test_wrong_solution_exits_1_naming_the_first_failing_case(tmp_path):
    code, report = code_run(tmp_path, solutions.WRONG)
    assert code == 1
    first = next(o for o in report["outcomes"] if o["status"] != "passed")
    assert first["number"] == 1 and first["status"] == "failed"
    assert first["message"].startswith("expected [1, 2], got [1, 1]")


def test_hidden_tests_never_show_their_inputs(tmp_path):
    _, report = code_run(tmp_path, solutions.WRONG)
    hidden = [o for o in report["outcomes"] if not o["public"]]
    assert hidden and all(o["input"] is None and o["expected"] is None and o["actual"] is None for o in hidden)
    assert any(o["message"].startswith("wrong answer on a hidden test") for o in hidden)


def test_endless_loop_is_stopped_at_its_limit(tmp_path):
    code, report = code_run(tmp_path, solutions.ENDLESS_LOOP)
    # The sandbox's own time (the watchdog's bound: 3 x 2 s CPU + 2 s), not the test process's.
    assert code == 1 and report["wall_seconds"] < 30
    assert "CPU time" in report["error"] and report["passed"] == 0


def test_memory_bomb_fails_with_the_memory_limit(tmp_path):
    code, report = code_run(tmp_path, solutions.MEMORY_BOMB)
    assert code == 1 and report["wall_seconds"] < 30
    assert report["outcomes"][0]["status"] == "memory"
    assert "memory" in report["outcomes"][0]["message"]


def test_fork_bomb_cannot_fork(tmp_path):
    code, report = code_run(tmp_path, solutions.FORK_BOMB)
    assert code == 1
    first = report["outcomes"][0]
    assert first["status"] == "error" and "Resource temporarily unavailable" in first["message"]


def test_deleting_a_file_outside_the_sandbox_leaves_it_in_place(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    code, report = code_run(tmp_path, solutions.deletes(victim))
    assert code == 1
    assert victim.read_text() == "keep me"
    assert "Read-only file system" in report["error"] or "Permission denied" in report["error"]


def test_huge_output_is_cut_off_and_reported(tmp_path):
    code, report = code_run(tmp_path, solutions.HUGE_OUTPUT)
    assert code == 1
    assert report["outcomes"][0]["status"] == "output"
    assert "printed more than 1 MB" in report["outcomes"][0]["message"]
    assert len(report["output"]) < 20_000


def test_syntax_error_is_one_line_with_its_line_number(tmp_path):
    code, report = code_run(tmp_path, solutions.SYNTAX_ERROR)
    assert code == 1
    assert report["error"].startswith("SyntaxError") and "solution.py line 1" in report["error"]
    assert set(statuses(report)) == {"not-run"}


def test_printing_instead_of_returning_says_so(tmp_path):
    code, report = code_run(tmp_path, solutions.PRINTS_INSTEAD)
    assert code == 1
    first = report["outcomes"][0]
    assert first["status"] == "failed"
    assert first["message"] == "returned None but printed output: return the answer instead of printing it"
    assert first["printed"].strip() == "[1, 2]"


def test_examples_flag_runs_only_the_public_examples(tmp_path):
    code, report = code_run(tmp_path, solutions.CORRECT, "--examples")
    assert code == 0 and report["kind"] == "examples"
    assert all(o["public"] for o in report["outcomes"]) and report["total"] == 3


def test_bad_input_exits_2_in_one_line(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["code", "run", solutions.QUESTION_ID, "--file", str(tmp_path / "nope.py")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    not_coding = runner.invoke(cli, ["code", "run", "pinterest.screen.overfitting", "--file", __file__])
    assert not_coding.exit_code == 2 and "not a coding question" in not_coding.output
    assert "Traceback" not in missing.output + not_coding.output
