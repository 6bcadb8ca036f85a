"""The end-of-interview report, built from stored turns and grades, and its Markdown form.

Rules the report states and follows:

- A question's grade is the grade of its main answer (the last attempt, in practice mode). Points
  the candidate only reached when probed are listed as "covered when probed" but do not raise the
  grade: an interviewer notes that the candidate needed the prompt.
- A skipped question counts as grade 0 in the means; an answer not graded yet (the model was
  unavailable) and a question not reached are left out of the means and named.
- The hire signal compares the overall mean grade with the pack's bar (0-4 scale): at or above the
  bar is "hire", less than half a grade below it "borderline", lower "no hire". There is no signal
  while an answer waits for its grade, for an unfinished session, and for a practice session in
  which fewer than half the questions were answered: a verdict over a few answers would mislead.
- Every figure a view shows for a session (mean grade, counts, hire signal) comes from
  ``Report.figures``, so the report, the review list, ``history`` and ``export`` agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from grader.engine.loader import LoadedPack
from grader.engine.result import GRADE_LABELS, GradeResult, MisconceptionResult, PointResult
from grader.engine.rubric import Question, Resource, Round

if TYPE_CHECKING:
    from grader.store.records import SessionRecord, TurnRecord

BORDERLINE_MARGIN = 0.5
TOP_POINTS = 5

GRADED, UNGRADED, SKIPPED, UNANSWERED = "graded", "ungraded", "skipped", "unanswered"


@dataclass(frozen=True)
class ReportTurn:
    """One line of the transcript, with the grade of an answer when it has one."""

    seq: int
    role: str
    kind: str
    text: str
    point_id: str | None
    created_at: str
    grade: GradeResult | None = None


@dataclass(frozen=True)
class QuestionReport:
    round_id: str
    question_id: str
    prompt: str
    status: str
    """``graded``, ``ungraded`` (stored, grade later), ``skipped`` or ``unanswered`` (not reached)."""
    attempts: int
    answer: str | None
    """The main answer of the last attempt."""
    result: GradeResult | None
    covered: list[PointResult]
    missed: list[PointResult]
    """Missed in the main answer and not reached under probing either."""
    covered_when_probed: list[PointResult]
    misconceptions: list[MisconceptionResult]
    model_answer: str | None
    turns: list[ReportTurn]

    @property
    def grade(self) -> int | None:
        if self.status == SKIPPED:
            return 0
        return self.result.grade if self.result is not None else None

    @property
    def counted_grade(self) -> int | None:
        """The grade that enters the means: skipped counts 0; ungraded and unanswered do not count."""
        return self.grade if self.status in (GRADED, SKIPPED) else None


@dataclass(frozen=True)
class RoundReport:
    round_id: str
    title: str
    kind: str
    mean_grade: float | None
    questions: list[QuestionReport]


@dataclass(frozen=True)
class PointSummary:
    question_id: str
    point_id: str
    title: str
    weight: float
    confidence: float
    evidence: str | None
    feedback: str


@dataclass(frozen=True)
class StudyItem:
    title: str
    url: str | None
    note: str | None
    reasons: list[str]
    """Why it is on the list, in words: the missed points (or skipped question) it covers."""
    missed_weight: float = 0.0
    """Rubric weight missed or skipped across the questions that list it: the list is ranked by it."""


@dataclass(frozen=True)
class SessionFigures:
    """The numbers every view shows for one session, computed once in ``build_report``."""

    questions: int
    """Questions in the session's rounds."""
    answered: int
    """Questions with a main answer stored (graded or waiting for a grade); skips are not answers."""
    graded: int
    skipped: int
    ungraded: int
    unreached: int
    mean_grade: float | None
    """Over graded and skipped questions (a skip counts 0); None when neither exists."""
    finished: bool | None
    """Whether the session was finished; None for a report built without its session."""
    hire_signal: str
    no_signal_reason: str
    """Why there is no hire signal (empty when there is one)."""

    @property
    def has_signal(self) -> bool:
        return self.hire_signal != NO_SIGNAL


@dataclass(frozen=True)
class Report:
    company: str
    display_name: str
    role: str
    hire_bar: float
    overall_grade: float | None
    hire_signal: str
    """``hire``, ``borderline``, ``no hire``, or ``no signal`` when nothing was graded."""
    hire_statement: str
    """The signal in a plain sentence, naming the bar and what the mean leaves out."""
    rounds: list[RoundReport]
    strongest: list[PointSummary]
    weakest: list[PointSummary]
    study_list: list[StudyItem]
    preamble: list[ReportTurn] = field(default_factory=list)
    session: SessionRecord | None = None
    figures: SessionFigures | None = None
    """Always set by ``build_report``; optional only so the dataclass keeps its field order."""

    @property
    def questions(self) -> list[QuestionReport]:
        return [question for round_ in self.rounds for question in round_.questions]

    def count(self, status: str) -> int:
        return sum(1 for question in self.questions if question.status == status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def overall_grade(questions: Sequence[QuestionReport]) -> float | None:
    grades = [q.counted_grade for q in questions if q.counted_grade is not None]
    return sum(grades) / len(grades) if grades else None


NO_SIGNAL = "no signal"
PRACTICE_MIN_ANSWERED_SHARE = 0.5
"""A practice session says hire or not only when at least this share of its questions was answered."""


def hire_signal(mean: float | None, bar: float) -> str:
    if mean is None:
        return NO_SIGNAL
    if mean >= bar:
        return "hire"
    if mean >= bar - BORDERLINE_MARGIN:
        return "borderline"
    return "no hire"


def build_report(
    loaded_pack: LoadedPack,
    turns: Sequence[TurnRecord],
    grades: Mapping[int, GradeResult],
    *,
    session: SessionRecord | None = None,
) -> Report:
    """The report for one session. ``grades`` maps answer turn ids to their newest grade."""
    pack = loaded_pack.pack
    ordered = sorted(turns, key=lambda turn: turn.seq)
    preamble, groups = _group_turns(ordered, grades)
    rounds = _rounds_for(loaded_pack, session, ordered)

    round_reports: list[RoundReport] = []
    for round_ in rounds:
        question_ids = list(round_.questions)
        # Questions asked that the pack no longer lists still belong in the transcript.
        question_ids += [qid for (rid, qid) in groups if rid == round_.id and qid not in question_ids]
        questions = [
            _question_report(round_.id, qid, loaded_pack.questions.get(qid), groups.get((round_.id, qid), []))
            for qid in question_ids
        ]
        round_reports.append(
            RoundReport(round_id=round_.id, title=round_.title, kind=round_.kind,
                        mean_grade=overall_grade(questions), questions=questions)
        )

    all_questions = [q for r in round_reports for q in r.questions]
    figures = session_figures(all_questions, session, pack.hire_bar)
    mean, signal = figures.mean_grade, figures.hire_signal
    return Report(
        company=pack.company,
        display_name=pack.display_name,
        role=pack.role,
        hire_bar=pack.hire_bar,
        overall_grade=mean,
        hire_signal=signal,
        hire_statement=_hire_statement(pack.display_name, figures, pack.hire_bar),
        rounds=round_reports,
        strongest=_strongest(all_questions),
        weakest=_weakest(all_questions),
        study_list=_study_list(all_questions, loaded_pack),
        preamble=preamble,
        session=session,
        figures=figures,
    )


def session_figures(questions: Sequence[QuestionReport], session: SessionRecord | None,
                    bar: float) -> SessionFigures:
    """Counts, mean grade and hire signal: the one definition every view of a session uses."""
    counts = {status: sum(1 for q in questions if q.status == status)
              for status in (GRADED, SKIPPED, UNGRADED, UNANSWERED)}
    mean = overall_grade(questions)
    answered = counts[GRADED] + counts[UNGRADED]
    finished = session.finished if session is not None else None
    reason = ""
    if mean is None:
        reason = "no answer has been graded yet"
    elif counts[UNGRADED]:
        # A verdict over the graded few would stand in for answers nobody has graded.
        reason = f"{counts[UNGRADED]} answer(s) not graded yet"
    elif finished is False:
        reason = "the session is unfinished"
    elif (session is not None and session.mode == "practice"
          and answered < PRACTICE_MIN_ANSWERED_SHARE * len(questions)):
        reason = f"practice with {answered} of {len(questions)} questions answered"
    return SessionFigures(
        questions=len(questions), answered=answered, graded=counts[GRADED], skipped=counts[SKIPPED],
        ungraded=counts[UNGRADED], unreached=counts[UNANSWERED], mean_grade=mean, finished=finished,
        hire_signal=NO_SIGNAL if reason else hire_signal(mean, bar), no_signal_reason=reason,
    )


# -- building -------------------------------------------------------------------------------------


def _group_turns(
    turns: Sequence[TurnRecord], grades: Mapping[int, GradeResult]
) -> tuple[list[ReportTurn], dict[tuple[str, str], list[ReportTurn]]]:
    preamble: list[ReportTurn] = []
    groups: dict[tuple[str, str], list[ReportTurn]] = {}
    key: tuple[str, str] | None = None
    for turn in turns:
        if turn.kind == "note" and turn.role != "interviewer":
            continue  # drafts kept so nothing typed is lost; the transcript shows what was submitted
        # (An interviewer's note is the coding round's talk-through request, with the tests' result.)
        if turn.question_id is not None:
            key = (turn.round_id or "", turn.question_id)
        item = ReportTurn(seq=turn.seq, role=turn.role, kind=turn.kind, text=turn.text, point_id=turn.point_id,
                          created_at=turn.created_at, grade=grades.get(turn.id))
        if key is None:
            preamble.append(item)
        else:
            groups.setdefault(key, []).append(item)
    return preamble, groups


def _rounds_for(loaded_pack: LoadedPack, session: SessionRecord | None, turns: Sequence[TurnRecord]) -> list[Round]:
    by_id = {round_.id: round_ for round_ in loaded_pack.pack.rounds}
    if session is not None:
        wanted = list(session.round_ids)
    else:
        seen = {turn.round_id for turn in turns if turn.round_id}
        wanted = [rid for rid in by_id if rid in seen] or list(by_id)
    return [by_id[rid] for rid in wanted if rid in by_id]


def _question_report(round_id: str, question_id: str, question: Question | None,
                     turns: list[ReportTurn]) -> QuestionReport:
    asks = [i for i, turn in enumerate(turns) if turn.role == "interviewer" and turn.kind == "question"]
    prompt = question.prompt if question else (turns[asks[0]].text if asks else question_id)
    model_answer = question.model_answer if question else None
    # The last attempt is everything from the last time the question itself was asked.
    attempt = turns[asks[-1]:] if asks else []
    main = next((t for t in attempt if t.role == "candidate" and t.kind in ("answer", "skip")
                 and t.point_id is None), None)
    probe_answers = [t for t in attempt if t.role == "candidate" and t.kind == "answer" and t.point_id is not None]

    result = main.grade if main is not None and main.kind == "answer" else None
    if main is None:
        status = UNANSWERED
    elif main.kind == "skip":
        status = SKIPPED
    elif result is None:
        status = UNGRADED
    else:
        status = GRADED

    covered: list[PointResult] = []
    missed: list[PointResult] = []
    covered_when_probed: list[PointResult] = []
    misconceptions: list[MisconceptionResult] = []
    if result is not None:
        covered = result.covered
        reached: dict[str, PointResult] = {}
        for probe_answer in probe_answers:
            if probe_answer.grade is not None:
                for point in probe_answer.grade.covered:
                    reached.setdefault(point.point_id, point)
        for point in result.missed:
            if point.point_id in reached:
                covered_when_probed.append(reached[point.point_id])
            else:
                missed.append(point)
        seen: set[tuple[str, str]] = set()
        for graded in [result, *(t.grade for t in probe_answers if t.grade is not None)]:
            for misconception in graded.misconceptions:
                mkey = (misconception.point_id, misconception.misconception_id)
                if mkey not in seen:
                    seen.add(mkey)
                    misconceptions.append(misconception)

    return QuestionReport(
        round_id=round_id,
        question_id=question_id,
        prompt=prompt,
        status=status,
        attempts=len(asks),
        answer=main.text if main is not None and main.kind == "answer" else None,
        result=result,
        covered=covered,
        missed=missed,
        covered_when_probed=covered_when_probed,
        misconceptions=misconceptions,
        model_answer=model_answer,
        turns=turns,
    )


def _hire_statement(name: str, figures: SessionFigures, bar: float) -> str:
    mean, signal = figures.mean_grade, figures.hire_signal
    counted = figures.graded + figures.skipped
    if mean is None:
        text = "No signal: no answer has been graded yet."
    elif figures.ungraded:
        text = (
            f"No signal yet: some answers are not graded. The {counted} graded so far average {mean:.2f}; "
            f"the verdict against the bar of {bar:.1f} waits for the rest."
        )
    elif signal == NO_SIGNAL:
        text = (
            f"No signal: {figures.no_signal_reason}. The {counted} question(s) graded so far average "
            f"{mean:.2f} (bar {bar:.1f}, skipped questions count 0)."
        )
    else:
        verdict = {
            "hire": "at or above",
            "borderline": f"below, but within {BORDERLINE_MARGIN:g} of,",
            "no hire": "below",
        }[signal]
        text = (
            f"{signal.capitalize()}: the mean grade {mean:.2f} over {counted} question(s) is {verdict} "
            f"the bar of {bar:.1f} this report uses for {name} (0-4 scale, skipped questions count 0)."
        )
    left_out = []
    if figures.ungraded:
        left_out.append(f"{figures.ungraded} answer(s) not graded yet (run `mockint regrade`)")
    if figures.unreached:
        left_out.append(f"{figures.unreached} question(s) not reached")
    if left_out:
        text += " Left out: " + "; ".join(left_out) + "."
    return text


def _summary(question_id: str, point: PointResult) -> PointSummary:
    return PointSummary(question_id=question_id, point_id=point.point_id, title=point.title, weight=point.weight,
                        confidence=point.confidence, evidence=point.evidence, feedback=point.feedback)


def _strongest(questions: Sequence[QuestionReport]) -> list[PointSummary]:
    points = [(q.question_id, p) for q in questions for p in q.covered]
    points.sort(key=lambda item: -(item[1].weight * item[1].confidence))
    return [_summary(qid, point) for qid, point in points[:TOP_POINTS]]


def _weakest(questions: Sequence[QuestionReport]) -> list[PointSummary]:
    points = [(q.question_id, p) for q in questions for p in q.missed]
    points.sort(key=lambda item: (-item[1].weight, -item[1].confidence))
    return [_summary(qid, point) for qid, point in points[:TOP_POINTS]]


SHORT_PROMPT_CHARS = 60


def _short_prompt(prompt: str) -> str:
    """A question named in a few words: its first sentence, cut at a word if still long."""
    text = _inline(prompt)
    first = text.split("? ")[0].split(". ")[0]
    if first != text:
        first += "?" if text[len(first):].startswith("?") else "…"
    if len(first) <= SHORT_PROMPT_CHARS:
        return first
    return first[:SHORT_PROMPT_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _study_list(questions: Sequence[QuestionReport], loaded_pack: LoadedPack) -> list[StudyItem]:
    """One entry per resource (by URL, else title), ranked by the rubric weight missed where it helps.

    A resource listed by several questions gathers their missed weight and their reasons.
    """
    weights: dict[str, float] = {}
    reasons: dict[str, list[str]] = {}
    resources: dict[str, Resource] = {}
    for q in questions:
        question = loaded_pack.questions.get(q.question_id)
        if question is None:
            continue
        prompt = _short_prompt(q.prompt)
        if q.status == SKIPPED:
            weight, reason = question.total_weight, f"skipped “{prompt}”"
        elif q.missed:
            weight = sum(p.weight for p in q.missed)
            reason = f"{', '.join(p.title for p in q.missed)} (missed in “{prompt}”)"
        else:
            continue
        for resource in question.resources:
            key = resource.url or resource.title.casefold()
            resources.setdefault(key, resource)
            weights[key] = weights.get(key, 0.0) + weight
            reasons.setdefault(key, []).append(reason)
    ranked = sorted(resources, key=lambda key: -weights[key])  # stable: ties keep the order first met
    return [
        StudyItem(title=resources[key].title, url=resources[key].url, note=resources[key].note,
                  reasons=reasons[key], missed_weight=weights[key])
        for key in ranked
    ]


# -- Markdown -------------------------------------------------------------------------------------


def _quote(label: str, text: str) -> str:
    lines = text.strip().splitlines() or [""]
    first, *rest = lines
    out = [f"> **{label}:** {first}"]
    out += [f"> {line}" if line.strip() else ">" for line in rest]
    return "\n".join(out)


def _fmt_grade(value: float | None) -> str:
    return "not graded" if value is None else f"{value:.1f} / 4"


def model_answer_quote(model_answer: str) -> str:
    """The rubric's model answer as a Markdown blockquote headed "Model answer"."""
    body = "\n".join(f"> {line}" if line.strip() else ">" for line in model_answer.strip().splitlines())
    return "> **Model answer**\n>\n" + body


def _speaker(turn: ReportTurn) -> str:
    if turn.role == "candidate":
        return "Candidate"
    if turn.role == "system":
        return "Note"
    return "Interviewer (follow-up)" if turn.kind == "probe" else "Interviewer"


def _inline(text: str | None) -> str:
    return " ".join((text or "").split())


def _grade_block(q: QuestionReport) -> list[str]:
    lines: list[str] = []
    if q.status == SKIPPED:
        lines = ["**Skipped** (counts as grade 0)."]
        if q.model_answer:
            lines += ["", model_answer_quote(q.model_answer)]
        return lines
    if q.status == UNANSWERED:
        return ["_Not answered._"]
    if q.status == UNGRADED or q.result is None:
        return ["_Answer stored, not graded yet: run `mockint regrade`._"]
    result = q.result
    lines.append(f"**Grade {result.grade}/4 ({GRADE_LABELS[result.grade]})**, rubric score {result.score}/100"
                 + (f", attempt {q.attempts}" if q.attempts > 1 else ""))
    if q.covered:
        lines += ["", "Covered:"]
        lines += [f"- ✅ **{p.title}**" + (f": “{_inline(p.evidence)}”" if p.evidence else "") for p in q.covered]
    if q.covered_when_probed:
        lines += ["", "Covered when probed (does not raise the grade):"]
        lines += [f"- ↩️ **{p.title}**" + (f": “{_inline(p.evidence)}”" if p.evidence else "")
                  for p in q.covered_when_probed]
    if q.missed:
        lines += ["", "Missed:"]
        lines += [f"- ❌ **{p.title}**: {_inline(p.feedback)}" for p in q.missed]
    if q.misconceptions:
        lines += ["", "Misconceptions:"]
        lines += [f"- ⚠️ **{m.claim}**: your sentence “{_inline(m.evidence)}” reads as this claim. "
                  f"{_inline(m.correction)}"
                  for m in q.misconceptions]
    if result.notices:
        lines += ["", *[f"_Note: {_inline(n)}_" for n in result.notices]]
    return lines


def render_markdown(report: Report, *, transcript: bool = True) -> str:
    """The session as Markdown for GitHub: header, the transcript with grades, then the report."""
    out: list[str] = []
    session = report.session
    out.append(f"# {report.display_name} mock interview: {report.role}")
    out.append("")
    facts = []
    if session is not None:
        facts.append(f"**Session** `{session.id}`")
        facts.append(f"**Date** {session.started_at[:16].replace('T', ' ')} UTC")
        facts.append(f"**Mode** {session.mode}")
        facts.append(f"**Status** {session.status}")
    facts.append(f"**Overall grade** {grade_summary(report.figures, full=True)}")
    out.append(" · ".join(facts))
    out.append("")
    if transcript:
        for r_index, round_ in enumerate(report.rounds, start=1):
            out.append(f"## Round {r_index}: {round_.title}")
            out.append("")
            out.append(f"Mean grade: {_fmt_grade(round_.mean_grade)}")
            out.append("")
            for q_index, q in enumerate(round_.questions, start=1):
                out.append(f"### {r_index}.{q_index} {_inline(q.prompt)}")
                out.append("")
                out.append(f"`{q.question_id}`")
                out.append("")
                for turn in q.turns:
                    out.append(_quote(_speaker(turn), "_skipped_" if turn.kind == "skip" else turn.text))
                    out.append("")
                out += _grade_block(q)
                out.append("")
    out += _report_section(report)
    return "\n".join(out).rstrip() + "\n"


def _report_section(report: Report) -> list[str]:
    out = ["## Report", "", f"**{report.hire_statement}**", "", "| Round | Mean grade | Graded | Skipped |",
           "|---|---|---|---|"]
    for round_ in report.rounds:
        graded = sum(1 for q in round_.questions if q.status == GRADED)
        skipped = sum(1 for q in round_.questions if q.status == SKIPPED)
        out.append(f"| {round_.title} | {_fmt_grade(round_.mean_grade)} | {graded}/{len(round_.questions)} "
                   f"| {skipped} |")
    out.append("")
    if report.strongest:
        out += ["### Strongest points", ""]
        out += [f"- **{p.title}** ({p.question_id})" + (f": “{_inline(p.evidence)}”" if p.evidence else "")
                for p in report.strongest]
        out.append("")
    if report.weakest:
        out += ["### Weakest points", ""]
        out += [f"- **{p.title}** ({p.question_id}, weight {p.weight:g}): {_inline(p.feedback)}"
                for p in report.weakest]
        out.append("")
    if report.study_list:
        out += ["### Study list", ""]
        for item in report.study_list:
            title = f"[{item.title}]({item.url})" if item.url else item.title
            note = f": {_inline(item.note)}" if item.note else ""
            out.append(f"- {title}{note} _(missed weight {item.missed_weight:g}: {'; '.join(item.reasons)})_")
        out.append("")
    return out


def grade_summary(figures: SessionFigures | None, *, full: bool = False) -> str:
    """The overall grade in words, the same wherever a session is listed or exported.

    Short for a table cell (history, the review list); ``full`` for a sentence (the export).
    """
    if figures is None or figures.mean_grade is None:
        return "not graded" if full else "—"
    grade = f"{figures.mean_grade:.1f}" + (" / 4" if full else "")
    if figures.has_signal:
        return f"{grade} ({figures.hire_signal})" if full else f"{grade} {figures.hire_signal}"
    if figures.finished is False:
        so_far = f"{grade} so far, {figures.answered} of {figures.questions} answered"
        return f"{so_far} (unfinished, no hire signal)" if full else so_far
    return f"{grade} (no hire signal: {figures.no_signal_reason})" if full else f"{grade}, no signal"
