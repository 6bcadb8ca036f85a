"""The coding round in the report: per question, the runs, the last submission and the talk-through grade.

Built from the Store's code-run records and the report (whose grade for a coding question is the
grade of its talk-through). No SQL and no terminal here: ``export``, the report screen and the
review screen all render what this returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from grader.coding.runner import format_ms
from grader.interview.report import Report

if TYPE_CHECKING:
    from grader.store.code_runs import CodeRunRecord


@dataclass(frozen=True)
class CodingSummary:
    question_id: str
    example_runs: int
    submissions: int
    passed: int | None
    """Tests the last submission passed (None: never submitted)."""
    total: int | None
    runtime_ms: float | None
    first_failure: str | None
    """The last submission's first failing test, in one line (None when all passed or none)."""
    talk_through_grade: int | None
    """The grade of the complexity and trade-offs answer (0-4; None: not graded or not given)."""
    talk_through_status: str
    code: str | None
    """The code last submitted (or last run, when never submitted)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def coding_summaries(report: Report, runs: Sequence[CodeRunRecord]) -> list[CodingSummary]:
    """One summary per coding question that has runs, in the order the report asks them."""
    by_question: dict[str, list[CodeRunRecord]] = {}
    for run in runs:
        by_question.setdefault(run.question_id, []).append(run)
    order = [q.question_id for q in report.questions if q.question_id in by_question]
    order += [qid for qid in by_question if qid not in order]
    questions = {q.question_id: q for q in report.questions}
    summaries = []
    for question_id in order:
        question_runs = by_question[question_id]
        submits = [run for run in question_runs if run.kind == "submit"]
        last = submits[-1] if submits else None
        failure = None
        if last is not None and not last.all_passed:
            failure = _first_failure(last.report)
        question = questions.get(question_id)
        summaries.append(CodingSummary(
            question_id=question_id,
            example_runs=len(question_runs) - len(submits),
            submissions=len(submits),
            passed=last.passed if last else None,
            total=last.total if last else None,
            runtime_ms=last.runtime_ms if last else None,
            first_failure=failure,
            talk_through_grade=question.grade if question else None,
            talk_through_status=question.status if question else "unanswered",
            code=(last or question_runs[-1]).code,
        ))
    return summaries


def _first_failure(report: dict[str, Any]) -> str:
    if report.get("error"):
        return str(report["error"])
    for outcome in report.get("outcomes", []):
        if outcome.get("status") != "passed":
            hidden = "" if outcome.get("public") else " (hidden)"
            return f"test {outcome.get('number')}{hidden}: {outcome.get('message', '')}"
    return ""


def tests_line(summary: CodingSummary) -> str:
    if summary.passed is None:
        return "not submitted"
    runtime = f" in {format_ms(summary.runtime_ms)}" if summary.runtime_ms is not None else ""
    return f"{summary.passed}/{summary.total} tests passed{runtime}"


def grade_line(summary: CodingSummary) -> str:
    return f"{summary.talk_through_grade}/4" if summary.talk_through_grade is not None else summary.talk_through_status


def render_coding_markdown(summaries: Sequence[CodingSummary], *, code: bool = True) -> str:
    """A "Coding" section: a table of results, then each question's submitted code."""
    if not summaries:
        return ""
    out = ["## Coding", "", "| Question | Tests (last submission) | Submissions | Example runs | Talk-through grade |",
           "|---|---|---|---|---|"]
    for summary in summaries:
        out.append(f"| `{summary.question_id}` | {tests_line(summary)} | {summary.submissions} | "
                   f"{summary.example_runs} | {grade_line(summary)} |")
    out.append("")
    for summary in summaries:
        if summary.first_failure:
            out += [f"`{summary.question_id}` first failure: {summary.first_failure}", ""]
        if code and summary.code:
            fence = "```"
            while fence in summary.code:  # a fence longer than any run of backticks in the code
                fence += "`"
            out += [f"### `{summary.question_id}`: code {'submitted' if summary.submissions else 'run'}", "",
                    f"{fence}python", summary.code.rstrip(), fence, ""]
    return "\n".join(out).rstrip() + "\n"
