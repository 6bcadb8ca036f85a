"""How a judge reads Pinterest answers in other voices, before anyone measures a grader with it.

    .venv/bin/python scripts/judge_reading.py [--weights FILE] [--dataset transcripts/style-shift/pinterest-tune.jsonl]

The judge trains on no Pinterest text, and its training log measures it on two Meta and Airbnb
questions whose sentences the same writers wrote as its training data. This reads, instead, every
sentence of the style-shift tuning part's answers (other writers, other voices, graded blind)
beside the closest reference of its question (cosine similarity 0.5 or more: a sentence like no
reference says nothing about how claims are read), and prints, by the answer's human category,
the share the judge reads as contradicting and as entailing, and the share at or above the
contradiction at which grading withholds a point (``JUDGE_CONTRADICTS``), and how well the
contradiction probability ranks wrong answers' sentences over right ones' (AUC). A judge worth measuring
reads opposite-asserting and wrong answers' sentences as contradictions and good and strong
answers' sentences not; the last line sets the two side by side. The tuning part is fitting
data, so choosing a judge by this is allowed; the dev part is never read here.
About a minute on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TUNING_PART = ROOT / "transcripts" / "style-shift" / "pinterest-tune.jsonl"
MIN_SIMILARITY = 0.5
MIN_WORDS = 4
WRONG = ("opposite", "wrong")
RIGHT = ("good", "strong")


def main() -> int:
    from sklearn.metrics import roc_auc_score

    from grader.engine.encoder import SentenceTransformerEncoder
    from grader.engine.grading import JUDGE_CONTRADICTS
    from grader.engine.judge import JUDGE_WEIGHTS_PATH, LABELS, MiniLMJudge
    from grader.engine.loader import load_all
    from grader.engine.text import judge_reading, split_sentences

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=JUDGE_WEIGHTS_PATH, help="judge weights to read with")
    parser.add_argument("--dataset", type=Path, default=TUNING_PART, help="labelled answers (JSON lines)")
    args = parser.parse_args()
    if "dev" in args.dataset.name:
        parser.error("--dataset: the dev part is for reporting, not for choosing a judge")
    for name, path in (("--weights", args.weights), ("--dataset", args.dataset)):
        if not path.is_file():
            parser.error(f"{name}: no such file: {path}")

    questions = {qid: q for pack in load_all() for qid, q in pack.questions.items()}
    encoder = SentenceTransformerEncoder()
    pairs: list[tuple[str, str]] = []
    categories: list[str] = []
    for number, line in enumerate(args.dataset.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        question = questions.get(row["question_id"])
        if question is None:
            parser.error(f"{args.dataset}:{number}: question_id: unknown question {row['question_id']!r}")
        references = [reference for point in question.points for reference in point.references]
        sentences = [s for s in split_sentences(row["answer"]) if len(s.split()) >= MIN_WORDS]
        if not sentences:
            continue
        similarity = encoder.encode(sentences) @ encoder.encode(references).T
        for i, sentence in enumerate(sentences):
            closest = int(similarity[i].argmax())
            if similarity[i, closest] >= MIN_SIMILARITY:
                pairs.append((judge_reading(sentence), references[closest]))
                categories.append(row.get("category", "unspecified"))

    verdicts = MiniLMJudge(args.weights).judge(pairs)
    contradict, entail = LABELS.index("contradict"), LABELS.index("entail")
    read = verdicts.argmax(axis=1)
    by_category: dict[str, list[int]] = defaultdict(list)
    for index, category in enumerate(categories):
        by_category[category].append(index)

    def shares(indices: list[int]) -> tuple[float, float, float]:
        rows = np.array(indices)
        return (float(np.mean(read[rows] == contradict)), float(np.mean(read[rows] == entail)),
                float(np.mean(verdicts[rows, contradict] >= JUDGE_CONTRADICTS)))

    print(f"{args.weights} on {args.dataset.name}: {len(pairs)} sentences")
    print(f"{'category':<14} {'n':>4}  contradiction  entailment  contradiction >= {JUDGE_CONTRADICTS}")
    for category in sorted(by_category):
        c, e, strong = shares(by_category[category])
        print(f"{category:<14} {len(by_category[category]):>4}  {c:13.2f}  {e:10.2f}  {strong:10.2f}")
    wrong = [i for c in WRONG for i in by_category.get(c, [])]
    right = [i for c in RIGHT for i in by_category.get(c, [])]
    if wrong and right:
        print(f"withheld at >= {JUDGE_CONTRADICTS}: {'/'.join(WRONG)} {shares(wrong)[2]:.2f}, "
              f"{'/'.join(RIGHT)} {shares(right)[2]:.2f}")
        # Threshold-free: a judge that is less sure of everything (an average of two, say) withholds
        # less at 0.9 without reading any worse, so judges are compared by how they rank sentences.
        ranking = roc_auc_score([1] * len(wrong) + [0] * len(right), verdicts[wrong + right, contradict])
        print(f"contradiction ranks {'/'.join(WRONG)} over {'/'.join(RIGHT)} sentences: AUC {ranking:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
