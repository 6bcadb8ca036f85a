"""scripts/compare_evals.py: whether two graders' agreement with people differs beyond resampling noise."""

import json
import re
import subprocess
import sys

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "compare_evals.py"


def _report(path, grades: list[tuple[int, int]]) -> str:
    rows = [{"id": f"a{i}", "question_id": f"q{i % 3}", "human": human, "grade": grade}
            for i, (human, grade) in enumerate(grades)]
    path.write_text(json.dumps({"predictions": rows}), encoding="utf-8")
    return str(path)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO)


def test_a_grader_that_matches_people_beats_one_that_is_off_by_one_on_a_third(tmp_path):
    humans = [i % 5 for i in range(60)]
    off = [(h, min(4, h + 1) if i % 3 == 0 else h) for i, h in enumerate(humans)]
    exact = [(h, h) for h in humans]
    result = _run(_report(tmp_path / "a.json", off), _report(tmp_path / "b.json", exact), "--resamples", "300")
    assert result.returncode == 0, result.stderr
    found = re.search(r"B - A \+([0-9.]+) \(95% paired bootstrap ([-+][0-9.]+) to ([-+][0-9.]+)\)", result.stdout)
    assert found is not None, result.stdout
    difference, low, high = map(float, found.groups())
    assert difference > 0 and 0 <= low <= difference <= high
    # 20 answers were off by one; the top grade cannot go higher, so 4 of those were already right.
    assert "B closer to the human grade 16, farther 0" in result.stdout


def test_it_refuses_reports_of_different_answers_and_missing_files_naming_them(tmp_path):
    a = _report(tmp_path / "a.json", [(1, 1), (2, 2)])
    b = _report(tmp_path / "b.json", [(1, 1)])
    different = _run(a, b)
    assert different.returncode == 2 and "grade different answers" in different.stderr
    missing = _run(a, str(tmp_path / "none.json"))
    assert missing.returncode == 2 and "none.json: no such file" in missing.stderr
    not_a_report = tmp_path / "x.json"
    not_a_report.write_text("[1, 2]", encoding="utf-8")
    wrong = _run(a, str(not_a_report))
    assert wrong.returncode == 2 and "not a `mockint eval --json` report" in wrong.stderr
    assert "Traceback" not in different.stderr + missing.stderr + wrong.stderr
