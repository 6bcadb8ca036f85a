"""Attacks on the grader, generated from each rubric: answers that look right and are not.

Every attack is built deterministically (seeded) from a question's own references, model answer
and prompt, so the suite grows with the rubrics. Attacks must earn at most grade 1 (and a mean of
at most 0.5); untouched model answers must earn at least 3. Two perturbations of a correct answer
are reported separately: padding with irrelevant text (should keep roughly its grade) and adding a
false claim taken from the rubric's misconceptions (should lose grade and name the misconception).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grader.engine.grading import Grader
from grader.engine.rubric import Question
from grader.engine.text import has_negation_word, words
from grader.evaluation.baselines import STOP_WORDS

MAX_ATTACK_GRADE = 1
MAX_ATTACK_MEAN = 0.5
MIN_MODEL_ANSWER_GRADE = 3

PADDING = (
    "Before I answer, some context about me: I spent last summer hiking in the Alps and learned to bake "
    "sourdough bread, which takes patience because the starter needs feeding every day. My favourite "
    "football team had a difficult season, and I have been reading a long novel about sailing ships."
)
"""Irrelevant text added around a correct answer (deliberately about nothing in any rubric)."""

_AUX = re.compile(
    r"\b(is|are|was|were|can|could|should|will|would|does|do|did|has|have|must|may|might)\b", re.IGNORECASE
)


_CLAUSE_BREAK = re.compile(
    r"[,;:]|\b(which|that|because|when|where|if|while|since|so|unless|whereas|then)\b", re.IGNORECASE
)


def negate(sentence: str) -> str:
    """State the opposite of a claim: 'X is Y' -> 'X is not Y'; otherwise 'It is not true that ...'.

    "not" goes after the auxiliary only in a claim of one clause. In a longer sentence the first
    auxiliary may sit in a relative or later clause ("..., which is O(log n) per draw") or negate
    one conjunct only, which leaves the main claim standing; in a sentence already negated it makes
    a double negative ("must not never be picked"). Those are denied as a whole instead.
    """
    text = sentence.strip().rstrip(".")
    match = _AUX.search(text)
    if match and not _CLAUSE_BREAK.search(text) and not has_negation_word(text):
        return f"{text[: match.end()]} not{text[match.end() :]}."
    return f"It is not true that {text[0].lower()}{text[1:]}."


def keyword_list(question: Question, rng: random.Random, size: int = 12) -> str:
    """The rubric's own content words with nothing connecting them."""
    seen: dict[str, None] = {}
    for text in (question.model_answer, *(ref for point in question.points for ref in point.references)):
        for word in words(text):
            if word not in STOP_WORDS and len(word) > 3:
                seen[word] = None
    chosen = list(seen)[: size * 2]
    rng.shuffle(chosen)
    return " ".join(chosen[:size])


def terms_as_sentences(question: Question, rng: random.Random) -> str:
    """The same rubric terms two at a time, each pair written as a sentence ("Noise training. ...")."""
    terms = keyword_list(question, rng).split()
    pairs = [" ".join(terms[i : i + 2]) for i in range(0, len(terms), 2)]
    return " ".join(f"{pair[0].upper()}{pair[1:]}." for pair in pairs)


def shuffled_words(question: Question, rng: random.Random) -> str:
    tokens = question.model_answer.replace(".", " ").split()
    rng.shuffle(tokens)
    return " ".join(tokens) + "."


SHORT_SHUFFLE_WORDS = 30
"""As long as a terse answer: the whole-answer word-order test needs some length to tell order from
chance (it once skipped anything under 40 words), so short shuffles are measured on their own."""


def shuffled_short_answer(question: Question, rng: random.Random) -> str:
    """The model answer's first sentences, at most SHORT_SHUFFLE_WORDS words, shuffled."""
    tokens = question.model_answer.replace(".", " ").split()[:SHORT_SHUFFLE_WORDS]
    rng.shuffle(tokens)
    return " ".join(tokens) + "."


def negated_claims(question: Question, rng: random.Random) -> str:
    return " ".join(negate(point.references[0]) for point in question.points)


def question_copied(question: Question, rng: random.Random) -> str:
    return question.prompt


def gibberish(question: Question, rng: random.Random, n_words: int = 40) -> str:
    letters = "etaoinshrdlucmfwypvbgk"
    tokens = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(n_words)]
    return " ".join(tokens) + "."


def dont_know(question: Question, rng: random.Random) -> str:
    return "I don't know."


ATTACKS: dict[str, Callable[[Question, random.Random], str]] = {
    "keyword list": keyword_list,
    "terms one per sentence": terms_as_sentences,
    "shuffled words": shuffled_words,
    "shuffled short answer": shuffled_short_answer,
    "negated key claims": negated_claims,
    "question copied back": question_copied,
    "gibberish": gibberish,
    "I don't know": dont_know,
}


def first_misconception(question: Question) -> tuple[str, str] | None:
    """(misconception id, first phrasing) of the first point that has one."""
    for point in question.points:
        for misconception in point.misconceptions:
            return misconception.id, misconception.phrasings[0]
    return None


@dataclass(frozen=True)
class Case:
    question_id: str
    kind: str
    answer: str
    expected_misconception: str | None = None


def generate_cases(questions: Sequence[Question], seed: int = 0) -> list[Case]:
    """All attack, perturbation and model-answer cases, deterministic for a seed."""
    cases: list[Case] = []
    for question in questions:
        rng = random.Random(f"{seed}:{question.id}")
        cases.append(Case(question.id, "model answer", question.model_answer))
        for kind, make in ATTACKS.items():
            cases.append(Case(question.id, kind, make(question, rng)))
        cases.append(Case(question.id, "padded correct answer", f"{PADDING} {question.model_answer} {PADDING}"))
        found = first_misconception(question)
        if found:
            mid, phrasing = found
            cases.append(Case(question.id, "correct answer + false claim", f"{question.model_answer} {phrasing}", mid))
    return cases


def run_robustness(
    questions: Sequence[Question],
    grader: Grader,
    *,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Grade every generated case; return per-kind summaries, per-case rows and the failures."""
    cases = generate_cases(questions, seed)
    by_id = {q.id: q for q in questions}
    results = []
    for start in range(0, len(cases), 16):
        chunk = cases[start : start + 16]
        results.extend(grader.grade_many([(by_id[c.question_id], c.answer) for c in chunk]))
        if progress:
            progress(len(chunk))
    model_grade = {c.question_id: r.grade for c, r in zip(cases, results, strict=True) if c.kind == "model answer"}
    rows = []
    for case, result in zip(cases, results, strict=True):
        named = [m.misconception_id for m in result.misconceptions]
        rows.append(
            {
                "question_id": case.question_id,
                "kind": case.kind,
                "grade": result.grade,
                "score": result.score,
                "model_answer_grade": model_grade[case.question_id],
                "misconceptions": named,
                "expected_misconception": case.expected_misconception,
                "answer": case.answer,
            }
        )
    summary: dict[str, dict[str, Any]] = {}
    for kind in ["model answer", *ATTACKS, "padded correct answer", "correct answer + false claim"]:
        kind_rows = [r for r in rows if r["kind"] == kind]
        if not kind_rows:
            continue
        grades = [r["grade"] for r in kind_rows]
        entry: dict[str, Any] = {
            "n": len(grades),
            "mean_grade": sum(grades) / len(grades),
            "max_grade": max(grades),
            "min_grade": min(grades),
        }
        if kind == "padded correct answer":
            entry["kept_grade"] = sum(r["grade"] >= r["model_answer_grade"] - 1 for r in kind_rows)
        if kind == "correct answer + false claim":
            entry["lost_grade"] = sum(r["grade"] < r["model_answer_grade"] for r in kind_rows)
            entry["named_misconception"] = sum(r["expected_misconception"] in r["misconceptions"] for r in kind_rows)
        summary[kind] = entry
    failures = _failures(rows, summary)
    warnings = _warnings(rows)
    return {
        "seed": seed,
        "questions": len(questions),
        "summary": summary,
        "cases": rows,
        "failures": failures,
        "warnings": warnings,
        "passed": not failures,
        "thresholds": {
            "max_attack_grade": MAX_ATTACK_GRADE,
            "max_attack_mean": MAX_ATTACK_MEAN,
            "min_model_answer_grade": MIN_MODEL_ANSWER_GRADE,
        },
    }


def _failures(rows: list[dict[str, Any]], summary: dict[str, dict[str, Any]]) -> list[str]:
    failures = []
    for row in rows:
        if row["kind"] in ATTACKS and row["grade"] > MAX_ATTACK_GRADE:
            failures.append(f"{row['kind']} earned {row['grade']} on {row['question_id']}: {row['answer'][:80]!r}")
        if row["kind"] == "model answer" and row["grade"] < MIN_MODEL_ANSWER_GRADE:
            failures.append(f"the model answer of {row['question_id']} earned only {row['grade']}")
    for kind in ATTACKS:
        if kind in summary and summary[kind]["mean_grade"] > MAX_ATTACK_MEAN:
            failures.append(f"{kind}: mean grade {summary[kind]['mean_grade']:.2f} > {MAX_ATTACK_MEAN}")
    return failures


def _warnings(rows: list[dict[str, Any]]) -> list[str]:
    """Perturbations that did not behave: reported, not failed (the bar is for attacks)."""
    out = []
    for row in rows:
        if row["kind"] == "padded correct answer" and row["grade"] < row["model_answer_grade"] - 1:
            out.append(f"padding dropped {row['question_id']} from {row['model_answer_grade']} to {row['grade']}")
        if row["kind"] == "correct answer + false claim":
            if row["grade"] >= row["model_answer_grade"]:
                out.append(f"a false claim cost {row['question_id']} no grade ({row['grade']})")
            if row["expected_misconception"] not in row["misconceptions"]:
                out.append(f"the false claim on {row['question_id']} was not named ({row['expected_misconception']})")
    return out
