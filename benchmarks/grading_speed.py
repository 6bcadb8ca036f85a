"""Grading speed and memory with the real model. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/grading_speed.py [--runs 200]

Figures: warm latency p50/p95 for a ~160-word answer against a nine-point rubric (the judge's memory
of pairs it has read is cleared before each timed grade, so every grade pays for the judge); answers
per second over the first 105 style-shift dev answers graded in one batch (fastest of three runs),
and that batch's time over one bare encoding pass of its texts (target: within 3x); how much
resident memory grows over 100 distinct answers graded one by one (it should level off); grading
time over bare encoding of the same texts; time from process start to first grade; peak memory;
whether the matrix products ran in bfloat16 (MOCKINT_FLOAT32=1 keeps float32). Targets (grader v2
issue): p95 <= 250 ms warm, peak <= 700 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUESTION_ID = "pinterest.design.ctr-system"  # nine weighted points, the most any rubric has
ANSWER = (
    "I would frame it as predicting the probability that a user clicks an ad, because the auction ranks ads "
    "by bid times pCTR. Serving works as a funnel: candidate retrieval with two-tower embeddings and "
    "targeting rules narrows millions of ads to a few thousand, a light model trims that to hundreds, and a "
    "heavier ranker scores the rest. Features cover the user, such as recent engagement and interests, the "
    "ad and advertiser, the context like surface and time of day, and crosses between them. Training data "
    "comes from impression logs joined with clicks inside an attribution window, with features logged at "
    "serving time so training and serving match. The ranker has to answer within tens of milliseconds, so "
    "we cache embeddings and precompute features. After ranking, the auction applies budgets, pacing and "
    "diversity rules. Because the price depends on the predicted probability, the model must be calibrated, "
    "so I would check predicted against observed click rates. Finally I would monitor drift and retrain "
    "daily, watching for feedback loops."
)

FIRST_GRADE = """
import resource, sys, time
t0 = time.perf_counter()
from grader.engine.loader import find_question, load_all
from grader.engine.grading import grader_for_pack
loaded, question = find_question(sys.argv[1], load_all())
result = grader_for_pack(loaded).grade(question, sys.argv[2])
elapsed = time.perf_counter() - t0
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, result.grade)
"""


def resident_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def encoded_texts(answers: list[str]) -> list[str]:
    """Exactly the texts grading encodes for these answers, in the order it sends them in one call
    (every unit, then the de-negated twins, then the definition predicates), from the grader's own
    reading of them."""
    from grader.engine.grading import answer_readings, texts_to_encode

    units, twins, bodies = texts_to_encode([r for a in answers if (r := answer_readings(a)) is not None])
    return [*units, *twins, *bodies]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    # Cold start in a fresh process: imports, model load, rubric encoding (disk-cached after the first run).
    cold = subprocess.run(
        [sys.executable, "-c", FIRST_GRADE, QUESTION_ID, ANSWER], capture_output=True, text=True, check=True
    )
    cold_seconds, peak_mb, cold_grade = cold.stdout.split()

    from grader.engine.encoder import SentenceTransformerEncoder
    from grader.engine.grading import grader_for_pack
    from grader.engine.loader import find_question, load_all

    loaded, question = find_question(QUESTION_ID, load_all())
    encoder = SentenceTransformerEncoder()
    grader = grader_for_pack(loaded, encoder)
    grader.warm([question])
    for _ in range(5):
        grader.grade(question, ANSWER)

    judge = grader.judge
    latencies = []
    for _ in range(args.runs):
        if judge is not None:
            judge.forget()
        start = time.perf_counter()
        grader.grade(question, ANSWER)
        latencies.append(time.perf_counter() - start)

    units = encoded_texts([ANSWER])
    encode_times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        encoder.encode(units)
        encode_times.append(time.perf_counter() - start)

    # Distinct answers in many voices, so the batch figure is not the judge's memory at work.
    dev = Path(__file__).resolve().parents[1] / "transcripts" / "style-shift" / "pinterest-dev.jsonl"
    rows = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_id = loaded.questions
    batch = [(by_id[row["question_id"]], row["answer"]) for row in rows if row["question_id"] in by_id][:105]
    grader.warm([q for q, _ in batch])
    # The fastest of three runs on each side of the ratio: this VM's speed varies from run to run,
    # and one run against the best of three read 3.1-3.7x for the same code.
    batch_runs = []
    for _ in range(3):
        if judge is not None:
            judge.forget()
        start = time.perf_counter()
        grader.grade_many(batch)
        batch_runs.append(time.perf_counter() - start)
    batch_seconds = min(batch_runs)
    per_second = len(batch) / batch_seconds
    # What `mockint eval` of these answers costs against one bare encoding pass of the texts grading
    # encodes for them (the target: within 3x).
    batch_units = encoded_texts([a for _, a in batch])
    bare_batch = []
    for _ in range(3):
        start = time.perf_counter()
        encoder.encode(batch_units)
        bare_batch.append(time.perf_counter() - start)

    # A long session grades answer after answer, each of its own length: the process must not grow
    # with every new shape of input (it did, by megabytes per grade, before passes were rounded).
    singles = [(by_id[row["question_id"]], row["answer"]) for row in rows if row["question_id"] in by_id][:100]
    before = resident_mb()
    for question_, answer in singles:
        grader.grade(question_, answer)
    growth = resident_mb() - before

    figures = {
        "answer_words": len(ANSWER.split()),
        "rubric_points": len(question.points),
        "texts_encoded_per_answer": len(units),
        "warm_latency_p50_ms": round(1000 * statistics.median(latencies), 1),
        "warm_latency_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "batch_answers_per_second": round(per_second, 1),
        "resident_growth_over_100_distinct_grades_mb": round(growth),
        "grading_over_bare_encoding": round(statistics.median(latencies) / statistics.median(encode_times), 3),
        "batch_of_105_over_bare_encoding": round(batch_seconds / min(bare_batch), 2),
        "process_start_to_first_grade_s": round(float(cold_seconds), 2),
        "peak_memory_mb": round(float(peak_mb)),
        "grade": int(cold_grade),
        "encoder_precision": encoder.precision,  # bfloat16 on CPUs with AMX or AVX512-BF16
        "judge": judge.judge_id if judge is not None else "none",
    }
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
