"""scripts/judge_reading.py: how a judge reads the style-shift tuning part, by answer category."""

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "judge_reading.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO)


def test_it_refuses_the_dev_part_and_missing_files_naming_the_argument(tmp_path):
    dev = _run("--dataset", "transcripts/style-shift/pinterest-dev.jsonl")
    assert dev.returncode == 2 and "--dataset: the dev part is for reporting" in dev.stderr
    missing = _run("--weights", str(tmp_path / "none.safetensors"))
    assert missing.returncode == 2 and "--weights: no such file" in missing.stderr
    assert "Traceback" not in dev.stderr + missing.stderr


@pytest.mark.real_model
def test_the_shipped_judge_withholds_more_of_wrong_answers_than_of_right_ones():
    result = _run()
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()[2:]
        if line[:1].isalpha() and line.split()[1].isdigit()  # the table's rows: category, n, shares
    }
    assert {"good", "strong", "opposite", "wrong"} <= rows.keys()
    assert sum(int(rows[c][0]) for c in rows) > 300
    withheld = re.search(r"opposite/wrong ([0-9.]+), good/strong ([0-9.]+)", result.stdout)
    assert withheld is not None
    wrong, right = float(withheld.group(1)), float(withheld.group(2))
    # Measured 0.35 against 0.05 (2026-12-07): what a judge is for, on answers it never trained on.
    assert wrong > 3 * right and right <= 0.1
    ranking = re.search(r"AUC ([0-9.]+)", result.stdout)
    # Measured 0.790: well above chance, well short of what a grader that never misreads would need.
    assert ranking is not None and 0.7 < float(ranking.group(1)) < 1.0
