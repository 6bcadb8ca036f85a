"""Time the SemEval-2013 benchmark: a first run on an empty cache, then a repeated run.

    .venv/bin/python benchmarks/semeval_speed.py [--data DIR]

Targets (2 cores): first full run <= 180 s, repeated run <= 30 s. Uses a fresh temporary cache
so the first run is really cold; prints both wall times, the load average around each run (other
processes on the machine slow the model down, so a time means little without it) and the 2-way
weighted F1 of each split.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine.encoder import CachedEncoder, SentenceTransformerEncoder  # noqa: E402
from grader.evaluation.semeval import run_benchmark  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets" / "semeval2013-task7")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        timings = []
        for label in ("first run (cold cache)", "repeated run"):
            load_before = os.getloadavg()[0]
            started = time.perf_counter()
            encoder = CachedEncoder(SentenceTransformerEncoder(), cache)
            report = run_benchmark(args.data, encoder, cache_dir=cache)
            timings.append((label, time.perf_counter() - started, load_before, os.getloadavg()[0]))
        for label, seconds, before, after in timings:
            print(f"{label}: {seconds:.1f} s (includes loading the model; load average {before:.1f} -> {after:.1f})")
        for row in report["results"]:
            if row["ways"] == 2:
                print(f"  {row['corpus']} {row['split']}: weighted F1 {row['weighted_f1']:.3f}")


if __name__ == "__main__":
    main()
