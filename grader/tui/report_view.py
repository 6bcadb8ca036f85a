"""The end-of-interview report as the TUI shows it: verdict first, then why, then what to study.

``mockint export`` writes the transcript-first Markdown from ``grader.interview.report``; on screen
the candidate wants the verdict and the reasons before the transcript, so this module orders the
same ``Report`` differently. Nothing here computes a grade: it only lays out the report.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from grader.engine.result import CLOSE_CALL_CREDITED, CLOSE_CALL_NOT_CREDITED, GRADE_LABELS
from grader.interview.report import (
    GRADED,
    SKIPPED,
    UNANSWERED,
    UNGRADED,
    QuestionReport,
    Report,
    model_answer_quote,
)


def _grade(value: float | None) -> str:
    return "not graded" if value is None else f"{value:.1f} / 4"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _quoted(text: str | None) -> str:
    """The candidate's own words inside a quote: shown as typed, never interpreted as Markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(text))


def _question_block(number: str, q: QuestionReport) -> list[str]:
    if q.status == GRADED and q.result is not None:
        result = q.result
        attempts = f" · attempt {q.attempts}" if q.attempts > 1 else ""
        head = f"**Grade {result.grade}/4 · {GRADE_LABELS[result.grade]}** · score {result.score}/100{attempts}"
    elif q.status == SKIPPED:
        head = "**Skipped** (counts as grade 0)"
        if q.model_answer:
            # What a good answer says is the most useful thing to read about a skipped question.
            return [f"### {number} {_one_line(q.prompt)}", "", head, "", model_answer_quote(q.model_answer), ""]
    elif q.status == UNGRADED:
        head = "**Not graded yet**: the answer is saved; run `mockint regrade`"
    else:
        head = "_Not reached_"
    lines = [f"### {number} {_one_line(q.prompt)}", "", head, ""]
    for point in q.covered:
        quote = f": “{_quoted(point.evidence)}”" if point.evidence else ""
        close = f" {CLOSE_CALL_CREDITED}" if point.close_call else ""
        lines.append(f"- ✓ **{point.title}**{close}{quote}")
    for point in q.covered_when_probed:
        quote = f": “{_quoted(point.evidence)}”" if point.evidence else ""
        lines.append(f"- ↩ **{point.title}**, only when probed{quote}")
    for point in q.missed:
        if point.close_call and point.evidence:  # not sure it was missed: never say so flatly
            lines.append(
                f"- ? **{point.title}**, not sure: your sentence “{_quoted(point.evidence)}” "
                f"{CLOSE_CALL_NOT_CREDITED}. {_one_line(point.feedback)}"
            )
        else:
            lines.append(f"- ✗ **{point.title}**: {_one_line(point.feedback)}")
    for wrong in q.misconceptions:
        lines.append(
            f"- ⚠ **{wrong.claim}** Your sentence “{_quoted(wrong.evidence)}” reads as this claim. "
            f"{_one_line(wrong.correction)}"
        )
    lines.append("")
    return lines


def report_markdown(report: Report) -> str:
    """Overall and per-round grades, the hire signal with its bar, strengths, weaknesses, breakdown, study list."""
    out = [f"# {report.display_name} · {report.role}: your report", ""]
    out += [f"**{report.hire_statement}**", ""]
    out += ["| Round | Mean grade | Graded | Skipped | Not graded |", "|---|---|---|---|---|"]
    for round_ in report.rounds:
        counts = {status: sum(1 for q in round_.questions if q.status == status)
                  for status in (GRADED, SKIPPED, UNGRADED, UNANSWERED)}
        out.append(
            f"| {round_.title} | {_grade(round_.mean_grade)} | {counts[GRADED]}/{len(round_.questions)} "
            f"| {counts[SKIPPED]} | {counts[UNGRADED]} |"
        )
    out += ["", "## Strongest points", ""]
    if report.strongest:
        out += [
            f"- **{p.title}**" + (f": “{_quoted(p.evidence)}”" if p.evidence else "") for p in report.strongest
        ]
    else:
        out.append("_None yet._")
    out += ["", "## Weakest points", ""]
    if report.weakest:
        out += [f"- **{p.title}** (weight {p.weight:g}): {_one_line(p.feedback)}" for p in report.weakest]
    else:
        out.append("_None._")
    out += ["", "## Question by question", ""]
    for r_index, round_ in enumerate(report.rounds, start=1):
        out += [f"**Round {r_index}: {round_.title}** · mean {_grade(round_.mean_grade)}", ""]
        for q_index, question in enumerate(round_.questions, start=1):
            out += _question_block(f"{r_index}.{q_index}", question)
    if report.study_list:
        out += ["## Study list", ""]
        out += ["Ranked by the rubric weight you missed where each helps.", ""]
        for item in report.study_list:
            # The URL in plain sight: a terminal may not open links, and the candidate can copy it.
            url = f"  \n  {item.url}" if item.url else ""
            note = f": {_one_line(item.note)}" if item.note else ""
            out.append(f"- **{item.title}**{note}{url}  \n  _for: {'; '.join(item.reasons)}_")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def verdict_line(report: Report) -> str:
    figures = report.figures
    assert figures is not None
    if figures.mean_grade is None:
        return f"No grade yet · hire bar {report.hire_bar:g} / 4"
    if figures.finished is False:
        return (f"Unfinished · {figures.mean_grade:.1f} / 4 so far, {figures.answered} of {figures.questions} "
                "answered · no hire signal")
    if not figures.has_signal:
        return f"Overall {figures.mean_grade:.1f} / 4 · no hire signal: {figures.no_signal_reason}"
    return (
        f"Overall {figures.mean_grade:.1f} / 4 · {figures.hire_signal.upper()} · "
        f"hire bar {report.hire_bar:g} / 4"
    )


class ReportView(VerticalScroll, can_focus=True):
    """A verdict banner coloured by the hire signal, then the report as Markdown."""

    def __init__(self, report: Report, coding_markdown: str = "", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.report = report
        self.coding_markdown = coding_markdown
        """The coding round's section (tests passed, talk-through grade, code), when there was one."""

    def compose(self) -> ComposeResult:
        signal = self.report.hire_signal.replace(" ", "-")
        yield Static(verdict_line(self.report), classes=f"verdict -{signal}")
        yield Markdown(report_markdown(self.report), classes="report-body")
        if self.coding_markdown:
            yield Markdown(self.coding_markdown, classes="report-body", id="report-coding")
