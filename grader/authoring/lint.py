"""`rubric check` lints: what makes a rubric grade badly even though every file is valid.

Errors (exit 2) are TODO markers a scaffold left. Warnings (exit code unchanged) are the habits that
show up as wrong grades: a point with too few references for the judge to recognise it in other
words; two points whose references the judge cannot tell apart, so credit goes to the wrong one; a
misconception phrasing the judge reads as stating its own point, so correct answers get accused;
a probe or feedback too thin to help; worked examples that do not span the scale, so the rubric's
tests cannot catch a grader that gives everyone a 2; a question no round asks; a file without the
schema line editors validate with.

The two judge lints grade the rubric's own sentences with the same grader that grades answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from grader.engine.loader import PACK_FILE, LoadedPack, RubricError, line_of, read_rubric_yaml
from grader.engine.rubric import Question

TODO = "TODO"
MIN_REFERENCES = 4
MIN_FEEDBACK_WORDS = 4
CONFUSABLE_SHARE = 0.5
"""Two points are confusable when at least this share of each one's references, graded as an
answer on its own, also earns the other point."""
SCHEMA_LINE_PREFIX = "# yaml-language-server: $schema="


@dataclass(frozen=True)
class Finding:
    severity: Literal["error", "warning"]
    path: Path
    field_path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.path) + (f":{self.line}" if self.line else "")
        what = f"{self.field_path}: " if self.field_path else ""
        return f"{where}: {what}{self.message}"


def todo_markers(path: Path) -> list[Finding]:
    """Every field of a rubric file whose value still holds a TODO marker (comments do not count)."""
    try:
        _, node = read_rubric_yaml(path)
    except RubricError:
        return []
    return [
        Finding("error", path, field_path, "still a TODO", scalar.start_mark.line + 1)
        for field_path, scalar in _scalars(node, [])
        if TODO in str(scalar.value)
    ]


def _scalars(node: yaml.Node | None, path: list[str | int]) -> Iterator[tuple[str, yaml.ScalarNode]]:
    if isinstance(node, yaml.ScalarNode):
        yield ".".join(str(p) for p in path) or "(top level)", node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(value, [*path, key.value])
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, [*path, index])


def echo_findings(findings: Sequence[Finding]) -> int:
    """Print warnings to standard output and errors to standard error; return the number of errors."""
    import click

    for finding in findings:
        if finding.severity == "warning":
            click.echo(f"warning: {finding}")
        else:
            click.echo(f"invalid: {finding}", err=True)
    return sum(finding.severity == "error" for finding in findings)


def loose_findings(questions: Sequence[Question], files: dict[str, Path] | None = None) -> list[Finding]:
    """Lints for question files checked on their own (``rubric check FILE``)."""
    files = files or {}
    findings: list[Finding] = []
    for question in questions:
        path = files.get(question.id, Path(question.id))
        findings.extend(todo_markers(path) if path.is_file() else [])
        findings.extend(question_findings(question, path))
    return findings


def pack_files(loaded: LoadedPack) -> list[Path]:
    return [loaded.root / PACK_FILE, *(loaded.question_files[qid] for qid in sorted(loaded.question_files))]


def static_findings(loaded: LoadedPack) -> list[Finding]:
    """Findings that need no model: TODOs, thin points, examples, unlisted questions, schema lines."""
    findings: list[Finding] = []
    for path in pack_files(loaded):
        findings.extend(todo_markers(path))
        first = path.read_text(encoding="utf-8").lstrip().splitlines()[:1]
        if not (first and first[0].startswith(SCHEMA_LINE_PREFIX)):
            findings.append(Finding("warning", path, "", f"no `{SCHEMA_LINE_PREFIX}...` line at the top: editors "
                                    "cannot check the file as it is typed", 1))
    pack_file = loaded.root / PACK_FILE
    for qid in loaded.unlisted_questions():
        findings.append(Finding("warning", loaded.question_files.get(qid, pack_file), "id",
                                f"question {qid!r} is in no round of {pack_file}: it is never asked"))
    for qid, question in loaded.questions.items():
        findings.extend(question_findings(question, loaded.question_files.get(qid, loaded.root)))
    return findings


def question_findings(question: Question, path: Path) -> list[Finding]:
    findings: list[Finding] = []
    node = _node(path)

    def warn(loc: list[str | int], message: str) -> None:
        findings.append(Finding("warning", path, ".".join(map(str, loc)), message, line_of(node, loc)))

    for index, point in enumerate(question.points):
        if len(point.references) < MIN_REFERENCES:
            warn(["points", index, "references"],
                 f"{len(point.references)} references; write at least {MIN_REFERENCES}, from textbook wording "
                 "to plain words, or answers that say it differently will miss the point")
        if TODO not in point.feedback and len(point.feedback.split()) < MIN_FEEDBACK_WORDS:
            warn(["points", index, "feedback"], f"feedback {point.feedback!r} is too short to tell a candidate "
                 "what to add")
        if TODO not in point.probe and len(point.probe.split()) < 2:
            warn(["points", index, "probe"], f"probe {point.probe!r} is too short for a follow-up question")
        for other in question.points[index + 1:]:
            shared = point.probe == other.probe or point.feedback == other.feedback
            if shared and TODO not in point.probe + point.feedback:
                warn(["points", index], f"points {point.id!r} and {other.id!r} share a probe or feedback; "
                     "each should say what its own point is missing")
    grades = {grade for example in question.examples for grade in example.accepted_grades}
    missing = [label for label, band in (("low (0-1)", {0, 1}), ("middle (2)", {2}), ("high (3-4)", {3, 4}))
               if not grades & band]
    if missing and question.coding is None:  # a coding question's own tests grade its code
        warn(["examples"], f"worked examples do not span the scale: none {', none '.join(missing)}; "
             "a grader that gives every answer the same grade would pass them")
    return findings


def _node(path: Path) -> yaml.Node | None:
    try:
        return read_rubric_yaml(path)[1] if path.is_file() else None
    except RubricError:
        return None


def judge_findings(grader, questions: Sequence[Question], files: dict[str, Path]) -> list[Finding]:  # type: ignore[no-untyped-def]
    """Confusable points, and misconceptions the judge reads into correct statements, by the grader.

    Each reference is graded as an answer on its own. A reference of point A that also earns point
    B is one the judge cannot keep apart from B. A reference named as one of the question's own
    misconceptions means a misconception phrasing reads, to the judge, as the point it corrupts: a
    candidate who says the right thing in those words would be accused of the wrong claim.
    """
    owners = [(question, p_index, reference) for question in questions
              for p_index, point in enumerate(question.points) for reference in point.references]
    # Left out of its own point while graded, as a candidate's paraphrase would be: a reference graded
    # against itself is always closest to its own point and hides every confusion.
    items = [(_without_reference(question, p_index, reference), reference) for question, p_index, reference in owners]
    results = grader.grade_many(items) if items else []
    earned: dict[tuple[str, int, int], int] = {}  # (question, point A, point B) -> A's references earning B
    findings: list[Finding] = []
    for (question, p_index, reference), result in zip(owners, results, strict=True):
        covered = {point.point_id for point in result.points if point.covered}
        for b_index, other in enumerate(question.points):
            if b_index != p_index and other.id in covered:
                earned[(question.id, p_index, b_index)] = earned.get((question.id, p_index, b_index), 0) + 1
        own = next(point for point in result.points if point.point_id == question.points[p_index].id)
        named = [found.misconception_id for found in result.misconceptions if not found.is_contradiction]
        # Below the naming threshold the grader only withholds the point, and its reason quotes the claim.
        suspected = [m.id for point in question.points for m in point.misconceptions
                     if not own.covered and m.claim in own.reason and m.id not in named]
        for misconception_id in [*named, *suspected]:
            location = _misconception_location(question, misconception_id)
            if location is None:
                continue
            path = files.get(question.id, Path(question.id))
            findings.append(Finding(
                "warning", path, ".".join(map(str, location)),
                f"the judge reads the reference “{_short(reference)}” of point {question.points[p_index].id!r} as "
                f"this misconception ({misconception_id!r}): a phrasing of it reads as entailing the point; "
                "phrase only the wrong part of the claim", line_of(_node(path), location)))
    for question in questions:
        n = len(question.points)
        for a in range(n):
            for b in range(a + 1, n):
                a_refs, b_refs = question.points[a].references, question.points[b].references
                ab, ba = earned.get((question.id, a, b), 0), earned.get((question.id, b, a), 0)
                if ab >= CONFUSABLE_SHARE * len(a_refs) and ba >= CONFUSABLE_SHARE * len(b_refs):
                    path = files.get(question.id, Path(question.id))
                    findings.append(Finding(
                        "warning", path, f"points.{a}",
                        f"the judge cannot tell points {question.points[a].id!r} and {question.points[b].id!r} "
                        f"apart: {ab} of {len(a_refs)} references of the first also earn the second, {ba} of "
                        f"{len(b_refs)} the other way; make their references say different things, or merge them",
                        line_of(_node(path), ["points", a])))
    return findings


def _without_reference(question: Question, p_index: int, reference: str) -> Question:
    point = question.points[p_index]
    kept = [text for text in point.references if text != reference]
    points = [*question.points[:p_index], point.model_copy(update={"references": kept}), *question.points[p_index + 1:]]
    return question.model_copy(update={"points": points})


def _misconception_location(question: Question, misconception_id: str) -> list[str | int] | None:
    for p_index, point in enumerate(question.points):
        for m_index, misconception in enumerate(point.misconceptions):
            if misconception.id == misconception_id:
                return ["points", p_index, "misconceptions", m_index, "phrasings"]
    return None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
