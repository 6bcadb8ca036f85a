"""``rubric check`` on coding questions: schema errors name the field; the reference must pass its tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from grader.cli import cli
from tests.conftest import REPO

QUESTION_FILE = "pinterest.coding.top-k-frequent.yaml"


def pack_copy(tmp_path: Path) -> Path:
    root = tmp_path / "rubrics" / "pinterest"
    shutil.copytree(REPO / "rubrics" / "pinterest", root)
    return root


def check(tmp_path: Path):
    return CliRunner().invoke(cli, ["rubric", "check", "--no-examples", str(tmp_path / "rubrics")])


def test_the_shipped_coding_questions_pass_their_own_tests(tmp_path):
    pack_copy(tmp_path)
    result = check(tmp_path)
    assert result.exit_code == 0, result.output


def test_a_reference_solution_that_fails_a_test_makes_the_file_invalid(tmp_path):
    path = pack_copy(tmp_path) / "questions" / QUESTION_FILE
    # The reference returns one value too many.
    text = path.read_text().replace("heapq.nlargest(k, counts.items()", "heapq.nlargest(k + 1, counts.items()")
    path.write_text(text)
    result = check(tmp_path)
    assert result.exit_code == 2
    assert f"{QUESTION_FILE}: coding.reference_solution: fails test 1 (example 1): expected [1, 2]" in result.output


def test_a_coding_round_question_without_code_is_named(tmp_path):
    root = pack_copy(tmp_path)
    pack = root / "pack.yaml"
    moved = "      - pinterest.screen.overfitting\n"  # from the screen round to the coding round
    text = pack.read_text().replace(moved, "", 1)
    pack.write_text(text.replace("      - pinterest.coding.roc-auc\n", "      - pinterest.coding.roc-auc\n" + moved))
    result = check(tmp_path)
    assert result.exit_code == 2
    assert "'pinterest.screen.overfitting' needs a `coding:` block but round 'coding' is coding" in result.output


def test_an_unknown_coding_field_is_named_with_its_line(tmp_path):
    path = pack_copy(tmp_path) / "questions" / QUESTION_FILE
    path.write_text(path.read_text().replace("  time_limit_seconds: 2\n", "  time_limit_secs: 2\n"))
    result = check(tmp_path)
    assert result.exit_code == 2
    assert "coding.time_limit_secs: Extra inputs are not permitted" in result.output
    assert "Traceback" not in result.output
