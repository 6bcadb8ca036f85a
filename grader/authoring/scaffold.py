"""Write a new pack as YAML text with TODO markers, from a parsed interview report or from nothing.

The files are written as text, not dumped, so they can carry what a contributor needs beside the
fields: the schema line editors validate with, a comment per TODO saying what good content looks
like, and every line of the report the parser could not place, as comments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from grader.authoring.report import InterviewReport, ReportQuestion, ReportRound, Topic, content_words, finish_pool

TODO = "TODO"
PACK_SCHEMA_LINE = "# yaml-language-server: $schema=../schema/pack.schema.json"
QUESTION_SCHEMA_LINE = "# yaml-language-server: $schema=../../schema/question.schema.json"
"""Relative to a pack folder inside a folder of packs whose ``schema/`` holds the JSON Schemas, the
layout of rubrics/ that ``rubric new`` also writes elsewhere."""
SECONDS_PER_QUESTION = {"rapid-fire": 180, "design": 600, "behavioral": 300}
MINUTES_PER_ROUND = {"rapid-fire": 30, "design": 50, "behavioral": 30}


@dataclass
class ScaffoldFile:
    relative_path: str
    text: str


@dataclass
class Scaffold:
    files: list[ScaffoldFile] = field(default_factory=list)
    unplaced_lines: int = 0


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.splitlines() or [""]]


def slug(text: str, *, max_words: int = 4, fallback: str = "item") -> str:
    words = content_words(text)[:max_words]
    return "-".join(words) or fallback


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def scaffold_pack(company: str, report: InterviewReport | None = None) -> Scaffold:
    """The files of a new pack for ``company``: from the report's rounds, or one stub round each of
    rapid-fire and design when there is no report."""
    if report is None:
        report = InterviewReport(rounds=[
            ReportRound(title="Technical screen", questions=[ReportQuestion(f"{TODO}: the first question, as asked")]),
            ReportRound(title="ML system design", questions=[ReportQuestion(f"{TODO}: design a ... system")]),
        ])
        from_report = False
    else:
        finish_pool(report)
        from_report = True
    scaffold = Scaffold()
    round_ids: set[str] = set()
    rounds_yaml: list[str] = []
    for round_ in report.rounds:
        round_id = _unique(slug(round_.title, max_words=3, fallback="round"), round_ids)
        kind = round_.kind
        question_ids: list[str] = []
        taken: set[str] = set()
        for question in round_.questions:
            if question.prompt.startswith(TODO):
                base = "question"  # a blank scaffold: the author names it with the prompt
            elif len(question.topics) == 1:
                base = slug(question.topics[0].name)
            else:
                base = slug(question.prompt)
            question_id = f"{company}.{round_id}.{_unique(base, taken)}"
            question_ids.append(question_id)
            scaffold.files.append(ScaffoldFile(f"questions/{question_id}.yaml",
                                               _question_yaml(question_id, question, kind, from_report)))
        rounds_yaml.extend(_round_yaml(round_id, round_, kind, question_ids))
    scaffold.files.insert(0, ScaffoldFile("pack.yaml", _pack_yaml(company, report, rounds_yaml, from_report)))
    scaffold.unplaced_lines = len(report.unplaced) + len(report.coding) + len(report.details)
    return scaffold


def _pack_yaml(company: str, report: InterviewReport, rounds_yaml: list[str], from_report: bool) -> str:
    lines = [PACK_SCHEMA_LINE]
    if from_report:
        lines.append(f"# Scaffolded by `mockint rubric new --company {company} --from ...`. Fill every TODO, then run")
    else:
        lines.append(f"# Scaffolded by `mockint rubric new --company {company}`. Fill every TODO, then run")
    lines.append("# `mockint rubric check` on this folder. CONTRIBUTING.md explains each field.")
    for title, block in (("Report details", report.details),
                         ("Coding problems from the report (coding questions are not scaffolded)", report.coding),
                         ("Lines of the report not placed in a round or question", report.unplaced)):
        if block:
            lines.append(f"# {title}:")
            lines.extend(f"#   {line}" for line in block)
    display = report.display_name or company.replace("-", " ").title()
    lines += [
        f"company: {company}",
        f"display_name: {_q(display)}",
        f"role: {_q(report.role or 'Machine Learning Engineer')}",
    ]
    if report.level:
        lines.append(f"level: {_q(report.level)}")
    topics = f" Topics the report names: {', '.join(report.topics)}." if report.topics else ""
    description = f"{TODO}: the loop in two sentences: its rounds and what each presses on.{topics}"
    lines.append(f"description: {_q(description)}")
    lines.append("hire_bar: 3.0  # mean grade (0-4) at or above which the report says 'hire'")
    lines.append("rounds:")
    lines.extend(rounds_yaml)
    return "\n".join(lines) + "\n"


def _round_yaml(round_id: str, round_: ReportRound, kind: str, question_ids: list[str]) -> list[str]:
    lines = []
    for note in round_.notes:
        lines.extend(_comment(f"From the report: {note}", "  "))
    for topic in round_.unplaced_topics:
        lines.extend(_comment(f"Topic not matched to a question: {topic.name}"
                              + (f": {topic.detail}" if topic.detail else ""), "  "))
    minutes = round_.minutes or MINUTES_PER_ROUND[kind]
    budget_note = "" if round_.minutes else "  # a guess: set the round's real length"
    lines += [
        f"  - id: {round_id}",
        f"    title: {_q(round_.title)}",
        f"    kind: {kind}  # rapid-fire, design, behavioral or coding",
        f"    time_budget_minutes: {minutes}{budget_note}",
        f"    description: {_q(f'{TODO}: what the interviewer expects in this round, in one or two sentences.')}",
        "    questions:",
    ]
    lines.extend(f"      - {qid}" for qid in question_ids)
    return lines


def _question_yaml(question_id: str, question: ReportQuestion, kind: str, from_report: bool) -> str:
    lines = [QUESTION_SCHEMA_LINE]
    for note in question.notes:
        lines.extend(_comment(f"From the report: {note}"))
    prompt_note = "  # as the report words it: make it a question an interviewer would ask" if from_report else ""
    lines += [
        f"id: {question_id}",
        f"prompt: {_q(question.prompt)}{prompt_note}",
        f"time_budget_seconds: {SECONDS_PER_QUESTION[kind]}",
        "points:",
        "  # One point per thing a strong answer says. References run from textbook wording to plain",
        "  # words, one idea each, at least 4; see CONTRIBUTING.md.",
    ]
    topics = question.topics or [Topic(f"{TODO}: first point")]
    point_ids: list[str] = []
    taken: set[str] = set()
    for topic in topics:
        point_id = _unique(slug(topic.name, fallback="point") if not topic.name.startswith(TODO) else "point",
                           taken)
        point_ids.append(point_id)
        if topic.detail:
            lines.extend(_comment(f"From the report: {topic.name}: {topic.detail}", "  "))
        lines += [
            f"  - id: {point_id}",
            f"    title: {_q(re.sub(r'[.:]+$', '', topic.name))}",
            "    weight: 2",
            "    references:",
            f"      - {_q(f'{TODO}: the point in textbook wording')}",
            f"      - {_q(f'{TODO}: the point as a strong candidate says it')}",
            f"      - {_q(f'{TODO}: the point in plain, short words')}",
            f"      - {_q(f'{TODO}: the point from another angle (an example, a consequence)')}",
            "    # misconceptions:  # optional: wrong claims candidates make about this point",
            "    #   - id: short-slug",
            "    #     claim: \"The wrong claim in one line.\"",
            "    #     phrasings:",
            "    #       - \"The wrong claim as a candidate would say it (one side of it only).\"",
            "    #     correction: \"What is actually true.\"",
            f"    probe: {_q(f'{TODO}: the follow-up the interviewer asks when this point is missed')}",
            f"    feedback: {_q(f'{TODO}: one or two sentences telling the candidate what to add')}",
        ]
    covers_all = ", ".join(point_ids)
    covers_half = ", ".join(point_ids[: max(1, len(point_ids) // 2)])
    lines += [
        f"model_answer: {_q(f'{TODO}: the answer a strong candidate gives, covering every point')}",
        "resources: []  # papers, book chapters, blog posts: {title, url, note}",
        "examples:",
        "  # Worked examples are the rubric's tests: answers in a candidate's words with the grade (0-4)",
        "  # and points a careful interviewer gives them. Span the scale: low, middle and high.",
        f"  - answer: {_q(f'{TODO}: a strong answer that covers every point')}",
        "    grade: 4",
        f"    covers: [{covers_all}]",
        f"  - answer: {_q(f'{TODO}: a partial answer that covers about half of the points')}",
        "    grade: 2",
        f"    covers: [{covers_half}]",
        f"  - answer: {_q(f'{TODO}: a weak answer: vague, off topic or with a misconception')}",
        "    grade: 1",
        "    covers: []",
    ]
    return "\n".join(lines) + "\n"
