"""Does a judge read the reference, or only the candidate's sentence? Measured on questions it never trained on.

    .venv/bin/python scripts/judge_text_alone.py [--weights FILE ...]

Takes the voiced claims other writers wrote for the two questions every judge holds out
(data/judge/voiced-wrong/wrong-*.jsonl: wrong claims in five voices, correct ones in two) and reads
each beside a reference of a *different* question, where the right verdict is neutral. A judge
that reads a wrong claim as contradicting an unrelated reference has learned what wrong claims
look like, not how a sentence relates to a reference; one that reads a correct claim so would tell
a candidate they said the opposite of a point they never spoke about. Prints, per judge, the share
of each read as a contradiction at the grading threshold (``JUDGE_CONTRADICTS``). Seconds.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

# Its sibling in scripts/ (on the path when run as a script), for the training data's readers.
import train_judge


def main() -> int:
    from grader.engine.grading import JUDGE_CONTRADICTS
    from grader.engine.judge import JUDGE_WEIGHTS_PATH, LABELS, MiniLMJudge

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, nargs="+", default=[JUDGE_WEIGHTS_PATH])
    args = parser.parse_args()
    for path in args.weights:
        if not path.is_file():
            parser.error(f"--weights: no such file {path}")

    _, pack_references = train_judge.rubric_pairs(random.Random(0))
    references = train_judge.every_reference(pack_references)
    rows = [row for _, _, row in train_judge.jsonl_rows(train_judge.VOICED_WRONG_DIR, ("wrong-*.jsonl",))
            if row["question"] in train_judge.HELD_OUT_QUESTIONS]
    rng = random.Random(7)
    keys = sorted(references)
    pairs: list[tuple[str, str]] = []
    for row in rows:
        other = rng.choice([key for key in keys if key[0] != row["question"]])
        pairs.append((row["text"], rng.choice(references[other])))
    wrong = np.array([row["label"] == "contradict" for row in rows])
    print(f"{len(rows)} claims on the held-out questions ({int(wrong.sum())} wrong, {int((~wrong).sum())} correct), "
          "each beside another question's reference")
    for path in args.weights:
        verdicts = MiniLMJudge(path).judge(pairs)
        contradiction = verdicts[:, LABELS.index("contradict")] >= JUDGE_CONTRADICTS
        print(f"{path}: read as contradicting at >= {JUDGE_CONTRADICTS}: wrong claims "
              f"{contradiction[wrong].mean():.2f}, correct claims {contradiction[~wrong].mean():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
