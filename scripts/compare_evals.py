"""Two graders on the same answers: is the difference in agreement more than resampling noise?

    .venv/bin/python scripts/compare_evals.py A.json B.json [--resamples 2000]

A and B are `mockint eval --json` reports of the same dataset (same answer ids), for instance the
shipped grader and a candidate, each with its calibration refitted. Prints both QWKs, the difference
B - A with a 95% paired bootstrap interval (answers resampled together, so both graders see the same
draw), how many grades moved and whether each moved toward or away from the human grade, and the
mean absolute error per question. A difference whose interval spans zero is not evidence either way:
on the 111-answer style-shift tuning part such an interval is about 0.08 wide.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from grader.evaluation.metrics import quadratic_weighted_kappa_score as qwk


def predictions(path: Path) -> dict[str, dict]:
    """The report's graded answers by id; ValueError naming the file when it is not such a report."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return {row["id"]: row for row in report["predictions"]}
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
        raise ValueError(f"{path}: not a `mockint eval --json` report (no predictions with ids)") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="the reference report (e.g. the shipped grader)")
    parser.add_argument("b", type=Path, help="the candidate's report on the same answers")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    try:
        a, b = predictions(args.a), predictions(args.b)
    except ValueError as problem:
        parser.error(str(problem))
    if set(a) != set(b):
        parser.error(f"{args.a} and {args.b} grade different answers ({len(set(a) ^ set(b))} ids differ)")
    ids = sorted(a)
    human = np.array([a[i]["human"] for i in ids])
    grade_a = np.array([a[i]["grade"] for i in ids])
    grade_b = np.array([b[i]["grade"] for i in ids])

    rng = np.random.default_rng(args.seed)
    differences = []
    for _ in range(args.resamples):
        draw = rng.integers(0, len(ids), len(ids))
        differences.append(qwk(human[draw], grade_b[draw]) - qwk(human[draw], grade_a[draw]))
    low, high = np.nanpercentile(differences, [2.5, 97.5])
    qwk_a, qwk_b = qwk(human, grade_a), qwk(human, grade_b)
    closer = int((np.abs(grade_b - human) < np.abs(grade_a - human)).sum())
    farther = int((np.abs(grade_b - human) > np.abs(grade_a - human)).sum())
    print(f"{len(ids)} answers: QWK A {qwk_a:.3f}, B {qwk_b:.3f}, "
          f"B - A {qwk_b - qwk_a:+.3f} (95% paired bootstrap {low:+.3f} to {high:+.3f})")
    moved = int((grade_a != grade_b).sum())
    print(f"grades that differ: {moved}; B closer to the human grade {closer}, farther {farther}")
    print("mean absolute error per question (A, B, grades moved):")
    for question in sorted({a[i]["question_id"] for i in ids}):
        rows = np.array([a[i]["question_id"] == question for i in ids])
        print(f"  {question:48s} n={int(rows.sum()):3d}  {np.abs(grade_a[rows] - human[rows]).mean():.2f}  "
              f"{np.abs(grade_b[rows] - human[rows]).mean():.2f}  {int((grade_a[rows] != grade_b[rows]).sum())}")


if __name__ == "__main__":
    main()
