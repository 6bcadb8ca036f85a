"""Rule ablation: switch one family of the grader's hand-written rules off at a time, refit the
calibration without it, and measure on the style-shift dev set (and, with --loqo, leave-one-question-out).

    .venv/bin/python scripts/ablate_rules.py [--loqo] [--out docs/eval/ablation.md]

A rule earns its place only if switching it off makes these figures worse: the dev set is written
in other voices than the transcripts the rules were tuned on, so a rule that only helps on our own
transcripts shows up here as one that does not help. Everything is refitted per variant, as
`mockint calibrate` does (calibration split plus the style-shift tuning part).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine import grading  # noqa: E402
from grader.engine.encoder import SentenceTransformerEncoder  # noqa: E402
from grader.engine.fitting import MemoEncoder, fit_calibration  # noqa: E402
from grader.engine.judge import Judge, shared_judge  # noqa: E402
from grader.engine.loader import load_company  # noqa: E402
from grader.engine.text import SentenceShape  # noqa: E402
from grader.engine.transcripts import read_fitting_rows  # noqa: E402
from grader.evaluation.datasets import read_dataset, transcripts_dataset  # noqa: E402
from grader.evaluation.harness import evaluate_results  # noqa: E402
from grader.evaluation.loqo import leave_one_question_out  # noqa: E402
from grader.evaluation.robustness import run_robustness  # noqa: E402

STYLE_SHIFT_DEV = ROOT / "transcripts" / "style-shift" / "pinterest-dev.jsonl"
SHUFFLE_ATTACKS = ("shuffled words", "shuffled short answer")
"""Robustness attacks reported per variant: no human-graded set holds shuffled answers, so these
are the only measure of the word-order rule."""


@contextmanager
def patched(target: Any, **replacements: Any) -> Iterator[None]:
    saved = {name: getattr(target, name) for name in replacements}
    for name, value in replacements.items():
        setattr(target, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(target, name, value)


def _plain_shape(text: str) -> SentenceShape:
    """Every unit reads as a sentence: no keyword-list detection."""
    return SentenceShape(max(1, len(text.split())), 1.0, 0)


@contextmanager
def no_negation() -> Iterator[None]:
    with patched(grading, is_negated=lambda text: False, clauses_denied=lambda sentence: frozenset()):
        yield


@contextmanager
def no_shape() -> Iterator[None]:
    with patched(grading, sentence_shape=_plain_shape, list_item_sentences=lambda text: set()), \
            patched(grading.Grader, _reads_as_shuffled=lambda self, sentences: False):
        yield


@contextmanager
def no_word_order() -> Iterator[None]:
    with patched(grading.Grader, _reads_as_shuffled=lambda self, sentences: False):
        yield


def _shape_without_keyword_list(text: str) -> SentenceShape:
    shape = _real_sentence_shape(text)
    return SentenceShape(shape.word_count, 1.0, 0)


_real_sentence_shape = grading.sentence_shape


@contextmanager
def no_keyword_list() -> Iterator[None]:
    with patched(grading, sentence_shape=_shape_without_keyword_list, list_item_sentences=lambda text: set()):
        yield


@contextmanager
def no_family_names() -> Iterator[None]:
    with patched(grading, named_apart=lambda sentence, reference: False):
        yield


@contextmanager
def nothing() -> Iterator[None]:
    yield


VARIANTS: list[tuple[str, Callable[[], Any], bool]] = [
    ("as shipped", nothing, True),
    ("no judge", nothing, False),
    ("no negation rules (scope, denials, de-negated twins)", no_negation, True),
    ("no keyword-list, word-order and shape rules", no_shape, True),
    ("no word-order (shuffled words) rule", no_word_order, True),
    ("no keyword-list rules", no_keyword_list, True),
    ("no L-family name rule", no_family_names, True),
]


def summary(report: dict[str, Any]) -> dict[str, Any]:
    adversarial = (report.get("adversarial") or {}).get("(all adversarial)", {})
    naming = report.get("misconception_naming") or {}
    return {
        "qwk": report["metrics"]["qwk"],
        "exact": report["metrics"]["exact"],
        "adversarial_mean": adversarial.get("mean"),
        "adversarial_max": adversarial.get("max"),
        "naming_precision": naming.get("precision"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loqo", action="store_true", help="also run leave-one-question-out per variant")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "eval" / "ablation.md")
    parser.add_argument(
        "--only", action="append", metavar="TEXT",
        help="run only the variants whose name contains TEXT (repeatable); leave-one-question-out "
        "takes about 12 minutes per variant here",
    )
    args = parser.parse_args()
    variants = [v for v in VARIANTS if not args.only or any(text in v[0] for text in args.only)]
    if not variants:
        parser.error(f"--only {args.only}: no variant matches; variants: {[v[0] for v in VARIANTS]}")

    pack = load_company("pinterest")
    packs = [load_company(company) for company in ("pinterest", "meta", "airbnb")]
    questions = {qid: q for p in packs for qid, q in p.questions.items()}
    rows = [row for p in packs for row in read_fitting_rows(p.company)]
    all_questions = [q for p in packs for q in p.ordered_questions()]
    dev = read_dataset(STYLE_SHIFT_DEV, [pack])
    transcripts = transcripts_dataset([pack], None)
    encoder = MemoEncoder(SentenceTransformerEncoder())
    judge: Judge | None = shared_judge()
    lines = [
        "# Rule ablation",
        "",
        "Generated by `.venv/bin/python scripts/ablate_rules.py"
        + (" --loqo" if args.loqo else "")
        + "".join(f" --only '{text}'" for text in args.only or [])
        + "`.",
        "Each row switches one family of rules off, refits the calibration without it",
        "(calibration split plus style-shift tuning part)",
        f"and grades the style-shift dev set ({len(dev.rows)} answers, other voices, graded blind)"
        + (" and runs leave-one-question-out over the transcripts." if args.loqo else "."),
        "Adversarial: opposite-asserting, off-topic and keyword-list answers (human grade 0);",
        "target mean <= 0.5, max 1. Shuffled: the robustness suite's shuffled-words attacks on every",
        "pack's questions (mean / max grade; target mean <= 0.5, max 1): the whole model answer, and",
        "its first 30 words.",
        "",
        "| variant | dev QWK | dev exact | dev adversarial mean / max | dev naming precision |"
        + "".join(f" {attack} mean / max |" for attack in SHUFFLE_ATTACKS)
        + (" LOQO QWK | LOQO adversarial mean / max |" if args.loqo else ""),
        "|---|---|---|---|---|" + "---|" * len(SHUFFLE_ATTACKS) + ("---|---|" if args.loqo else ""),
    ]
    for name, switch, with_judge in variants:
        started = time.time()
        used_judge = judge if with_judge else None
        with switch():
            calibration = fit_calibration(encoder, questions, rows, fitted_on=f"ablation: {name}", judge=used_judge)
            grader = grading.Grader(encoder, calibration, judge=used_judge)
            results = grader.grade_many([(dev.questions[row.question_id], row.answer) for row in dev.rows])
            figures = summary(evaluate_results(dev, results, encoder.model_id, n_resamples=0))
            attacked = run_robustness(all_questions, grader)["summary"]
            loqo = None
            if args.loqo:
                loqo = summary(leave_one_question_out(encoder, transcripts, rows, n_resamples=0, judge=used_judge))
        precision = "–" if figures["naming_precision"] is None else f"{figures['naming_precision']:.2f}"
        row = (
            f"| {name} | {figures['qwk']:.3f} | {figures['exact']:.2f} | "
            f"{figures['adversarial_mean']:.2f} / {figures['adversarial_max']} | {precision} |"
            + "".join(
                f" {attacked[kind]['mean_grade']:.2f} / {attacked[kind]['max_grade']} |" for kind in SHUFFLE_ATTACKS
            )
        )
        if loqo is not None:
            row += f" {loqo['qwk']:.3f} | {loqo['adversarial_mean']:.2f} / {loqo['adversarial_max']} |"
        lines.append(row)
        print(row, f"({time.time() - started:.0f} s)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
