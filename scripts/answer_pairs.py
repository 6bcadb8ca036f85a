"""Turn whole answers to the Meta and Airbnb questions, graded blind with quoted evidence, into the
judge's training pairs (``train_judge.py --answers``).

    python scripts/answer_pairs.py [--out data/judge/answers/pairs.jsonl]

Reads data/judge/answers/<pack>-answers-<batch>.jsonl: answers written by writers who saw only the
questions (strong to wrong, opposite-asserting, misconception-stating and off-topic, in many
voices), each graded by another helper who saw only the rubrics and the answers and quoted, for
every point the answer covers or contradicts and every misconception it states, the answer's words
that do so.

The pairs are chosen as the grader chooses the ones it hands the judge (without its further skips
of keyword lists, shuffled text and pairs no verdict could make count): the answer is cut into the units
grading reads (sentences, and clauses of long ones; ``answer_readings``), and for each point its
JUDGE_SENTENCES_PER_POINT closest units at JUDGE_FLOOR or more (and any farther unit holding one
of the grader's quotes for it), each beside the point's reference closest to it, as the judge
reads it (``judge_reading``). A unit is labelled
- entail when it holds most of a quote the grader gave for covering the point;
- contradict when it holds most of a quote for contradicting the point or stating one of its
  misconceptions;
- neutral when the grader marked the point neither covered nor contradicted anywhere in the answer:
  the unit is close to the point and does not state it, which is what wrong answers' fluent
  sentences are and what the judge most needs to learn;
and is left out otherwise (the point is stated elsewhere in the answer, or the unit is only a piece
of a quote), since its label would be a guess.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine.encoder import SentenceTransformerEncoder  # noqa: E402
from grader.engine.grading import JUDGE_FLOOR, JUDGE_SENTENCES_PER_POINT, answer_readings  # noqa: E402
from grader.engine.loader import load_company  # noqa: E402
from grader.engine.text import judge_reading  # noqa: E402

ANSWERS_DIR = ROOT / "data" / "judge" / "answers"
PACKS = ("meta", "airbnb")
QUOTE_HELD = 0.7
"""Share of a quote's words a unit must hold to carry its label."""
PIECE_OF_QUOTE = 0.6
"""A unit with this share of its own words inside a quote, but not holding the quote, is only a
piece of it (the other half of a split sentence): left out."""

CLOSE_ENOUGH = 0.5
"""A quote's unit is labelled by the quote only beside a reference at least this similar: a point's
references state different parts of it, and the one closest to the unit may not be the part the
quote states (below it an entailment is left out and a contradiction becomes neutral)."""

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.lower()))


def share_of(part: Counter[str], whole: Counter[str]) -> float:
    """Share of ``part``'s words (with repeats) that ``whole`` holds."""
    total = sum(part.values())
    return sum((part & whole).values()) / total if total else 0.0


def unit_label(unit: str, point: str, row: dict) -> str | None:
    """The unit's label for the point from the grader's quotes, or None when it would be a guess."""
    unit_words = words(unit)
    marked: list[tuple[str, str]] = [(c["quote"], "entail") for c in row["covers"] if c["point"] == point]
    marked += [(c["quote"], "contradict") for c in row["contradicts"] if c["point"] == point]
    marked += [(m["quote"], "contradict") for m in row["misconceptions"] if m["point"] == point]
    for quote, label in marked:
        if share_of(words(quote), unit_words) >= QUOTE_HELD:
            return label
    if marked:
        return None  # stated elsewhere in the answer, or this unit is a piece of its quote
    for quote in [c["quote"] for c in row["covers"]] + [c["quote"] for c in row["contradicts"]]:
        # A piece of a quote for another point may still speak of this one in passing.
        if share_of(unit_words, words(quote)) >= PIECE_OF_QUOTE and share_of(words(quote), unit_words) < QUOTE_HELD:
            return None
    return "neutral"


def pack_pairs(pack: str, encoder: SentenceTransformerEncoder) -> list[dict]:
    questions = load_company(pack).questions
    pairs: list[dict] = []
    rows = [
        (path, number, json.loads(line))
        for path in sorted(ANSWERS_DIR.glob(f"{pack}-answers-*.jsonl"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip()
    ]
    # Each question's references, their point ids and vectors, encoded once for all its answers.
    rubric: dict[str, tuple[list[tuple[str, str]], np.ndarray]] = {}
    for path, number, row in rows:
        question = questions[row["question_id"]]
        owner = {m.id: point.id for point in question.points for m in point.misconceptions}
        row["misconceptions"] = [{**m, "point": owner[m["id"]]} for m in row["misconceptions"]]
        readings = answer_readings(row["answer"])
        if readings is None:
            continue
        units = readings.units
        if question.id not in rubric:
            references = [(point.id, ref) for point in question.points for ref in point.references]
            rubric[question.id] = references, encoder.encode([ref for _, ref in references])
        references, reference_vectors = rubric[question.id]
        cosine = encoder.encode(units) @ reference_vectors.T
        for point in question.points:
            columns = np.array([j for j, (pid, _) in enumerate(references) if pid == point.id])
            closest = columns[np.argmax(cosine[:, columns], axis=1)]
            nearness = cosine[np.arange(len(units)), closest]
            nearest_first = [i for i in np.argsort(-nearness, kind="stable") if nearness[i] >= JUDGE_FLOOR]
            for rank, i in enumerate(nearest_first):
                label = unit_label(units[i], point.id, row)
                if label is None or (rank >= JUDGE_SENTENCES_PER_POINT and label == "neutral"):
                    continue
                # Far from this reference, a quote states the point (or its opposite) through another
                # of its references; beside this one it says neither.
                if nearness[i] < CLOSE_ENOUGH and label == "entail":
                    continue
                if nearness[i] < CLOSE_ENOUGH and label == "contradict":
                    label = "neutral"
                pairs.append({
                    "question": question.id, "point": point.id, "answer": row["id"],
                    "text": judge_reading(units[i]), "reference": references[closest[i]][1],
                    "label": label, "kind": f"answer-{label}", "similarity": round(float(nearness[i]), 3),
                    "category": row["category"], "source": f"{path.relative_to(ROOT)}:{number}",
                })
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ANSWERS_DIR / "pairs.jsonl")
    args = parser.parse_args()
    encoder = SentenceTransformerEncoder()
    pairs = [pair for pack in PACKS for pair in pack_pairs(pack, encoder)]
    args.out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    by_category = Counter((p["category"], p["label"]) for p in pairs)
    print(f"wrote {args.out}: {len(pairs)} pairs, {dict(Counter(p['label'] for p in pairs))}")
    for category in sorted({c for c, _ in by_category}):
        counts = ", ".join(f"{label} {n}" for (c, label), n in sorted(by_category.items()) if c == category)
        print(f"  {category}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
