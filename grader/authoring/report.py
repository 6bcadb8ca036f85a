"""Read an interview-experience report (the kind candidates post after a loop) into rounds and questions.

Reports come in a few common shapes: a structured write-up ("Round 1: Technical Screen",
"Question: ...", "Topics covered:", "Key discussion points:", "LeetCode similar: ..."), a
Glassdoor-style review ("Interview questions", "Question 1" then the question), and plain notes
(a heading per round with a duration, bulleted questions, "talked about: a, b, c"). The parser is
line based and forgiving: what it recognises becomes rounds, prompts and topics; every other
non-empty line is kept, in order, as an unplaced note, so nothing the report says is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

RoundKind = Literal["rapid-fire", "design", "behavioral"]

_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")
_NUMBERED_ROUND = re.compile(
    r"^(?:#+\s*)?(?:round|interview|onsite|on-site|stage|part)\s*#?(\d+)\s*(?:[:.)\-–—]\s*(.*))?$", re.IGNORECASE)
_NAMED_ROUND = re.compile(
    r"^(?:#+\s*)?((?:virtual\s+)?(?:phone|technical|tech|recruiter|hiring[- ]manager|onsite|on-site|ml|"
    r"machine learning|system|behaviou?ral|coding|final|team|product|ml system|ml design|research)\b.*?"
    r"(?:screen|call|interview|round|design|coding|fundamentals|breadth|depth|behaviou?ral|chat|loop|practitioner|"
    r"\d+)\b.*)$",
    re.IGNORECASE,
)
_DURATION = re.compile(r"\(?\b(\d{1,3})\s*(?:min|mins|minutes|m)\b\)?", re.IGNORECASE)
_SECTIONS = re.compile(
    r"^(?:#+\s*)?(summary|details|preparation.*|what i learned|recommended preparation|resources.*|tips.*|"
    r"key takeaways|overall.*|outcome|offer|application|the process|interview process|advice.*|"
    r"interview questions.*|questions asked|interview)\s*:?$",
    re.IGNORECASE,
)
_QUESTIONS_SECTION = re.compile(r"^(?:#+\s*)?(interview questions.*|questions asked)\s*:?$", re.IGNORECASE)
_QUESTION_LINE = re.compile(r"^(?:#+\s*)?(?:q(?:uestion)?\s*#?\d*|the task|task|prompt|problem)\s*[:.)\-–—]\s*(.+)$",
                            re.IGNORECASE)
_QUESTION_LABEL = re.compile(r"^(?:#+\s*)?question\s*#?\d+\s*:?$", re.IGNORECASE)
_TOPIC_LIST = re.compile(
    r"^(topics covered|key discussion points|discussion points|talked about|topics discussed|follow[- ]?ups?|"
    r"focus areas|areas covered|covered|asked about)\s*:\s*(.*)$",
    re.IGNORECASE,
)
_METADATA = re.compile(
    r"^(level|topics|round|type|difficulty|duration|interviewer|location|interview date|date|got offer|offer|"
    r"result|outcome|position|role|team|company|experience)\s*:\s*(.*)$",
    re.IGNORECASE,
)
_LEETCODE = re.compile(r"leetcode|\blc\s*\d+", re.IGNORECASE)
_HEADER = re.compile(r"^(?P<company>[^—–|:]+?)\s+[—–|-]\s+(?P<role>[^—–|]+?)\s*(?:[✅❌⚠️✔✘]+.*)?$")
_JOB = re.compile(r"engineer|scientist|developer|researcher|analyst|manager|intern|\b(?:swe|mle|sde)\b",
                  re.IGNORECASE)
_ASKING = re.compile(
    r"^(what|why|how|when|which|where|who|explain|describe|design|compare|implement|build|walk|tell me|given|"
    r"write|estimate|discuss|define|derive|suppose|imagine|can you|could you|would you|do you|is|are|should)\b",
    re.IGNORECASE,
)
_CODING = re.compile(r"^(coding|code|leetcode|algorithm|dsa)\b\s*[:\-–—]?", re.IGNORECASE)


@dataclass
class Topic:
    name: str
    detail: str = ""


@dataclass
class ReportQuestion:
    prompt: str
    topics: list[Topic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportRound:
    title: str
    number: int | None = None
    minutes: int | None = None
    questions: list[ReportQuestion] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    """Topics the report gives for the round as a whole; placed on questions by ``place_topics``."""
    notes: list[str] = field(default_factory=list)
    unplaced_topics: list[Topic] = field(default_factory=list)

    @property
    def kind(self) -> RoundKind:
        text = " ".join([self.title, *(q.prompt for q in self.questions)]).lower()
        if re.search(r"behaviou?r|hiring manager|culture|values|leadership|tell me about a time", text):
            return "behavioral"
        if re.search(r"\bdesign\b|system|architecture|practitioner|end[- ]to[- ]end", text):
            return "design"
        return "rapid-fire"


@dataclass
class InterviewReport:
    display_name: str | None = None
    role: str | None = None
    level: str | None = None
    topics: list[str] = field(default_factory=list)
    rounds: list[ReportRound] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """Metadata lines kept as they were (location, date, difficulty...)."""
    coding: list[str] = field(default_factory=list)
    """Coding problems and "LeetCode similar" lines: coding questions are not scaffolded."""
    unplaced: list[str] = field(default_factory=list)


def parse_report(text: str) -> InterviewReport:
    """Parse a report; see the module docstring for the shapes understood."""
    parser = _Parser()
    for raw in text.splitlines():
        parser.feed(raw)
    parser.finish()
    report = parser.report
    for round_ in report.rounds:
        place_topics(round_)
    return report


class _Parser:
    def __init__(self) -> None:
        self.report = InterviewReport()
        self.round: ReportRound | None = None
        self.question: ReportQuestion | None = None
        self.topics_open = False  # inside a "Topics covered:" list
        self.in_prose_section = False  # inside "Preparation tips", "What I learned"...
        self.in_questions_section = False
        self.expect_question = False  # after a bare "Question 1" label
        self.seen_header = False
        self.question_indent = -1

    # -- dispatch ------------------------------------------------------------------------------

    def feed(self, raw: str) -> None:
        line = raw.strip()
        if not line:
            self.topics_open = False
            return
        indent = len(raw) - len(raw.lstrip())
        is_bullet = bool(_BULLET.match(raw))
        text = _BULLET.sub("", raw).strip() if is_bullet else line
        if not self.seen_header:
            self.seen_header = True
            if self._header(line):
                return
        if self.expect_question:
            self.expect_question = False
            self._add_questions(text, pool=True)
            return
        handled = (
            self._leetcode(line)
            or self._round_heading(line, is_bullet)
            or self._section(line, is_bullet)
            or self._metadata(line, is_bullet)
            or self._topic_list(text)
            or self._topic_item(text, is_bullet, indent)
            or self._question(text, is_bullet, indent)
        )
        if not handled:
            self._note(line)

    def finish(self) -> None:
        rounds = [r for r in self.report.rounds if r.questions]
        for empty in (r for r in self.report.rounds if not r.questions):
            # A round heading with no question in it: keep what the report said about it.
            self.report.unplaced.append(f"{empty.title}" + (f" ({empty.minutes} min)" if empty.minutes else ""))
            self.report.unplaced.extend(empty.notes)
            self.report.unplaced.extend(_topic_text(t) for t in empty.topics)
        self.report.rounds = rounds

    # -- recognisers ---------------------------------------------------------------------------

    def _header(self, line: str) -> bool:
        match = _HEADER.match(line)
        if match and _JOB.search(match["role"]) and not _METADATA.match(line):
            self.report.display_name = match["company"].strip()
            self.report.role = match["role"].strip()
            self.report.details.append(line)  # the outcome ("❌ Failed") and all, as written
            return True
        glassdoor = re.match(r"^(.+?)\s+interview(?:\s+questions)?$", line, re.IGNORECASE)
        if glassdoor and _JOB.search(glassdoor[1]) and not re.search(r"screen|onsite|round", line, re.IGNORECASE):
            self.report.role = glassdoor[1].strip()  # "Machine Learning Engineer Interview"
            self.report.details.append(line)
            return True
        return False

    def _leetcode(self, line: str) -> bool:
        if _LEETCODE.search(line):
            self.report.coding.append(line)
            return True
        return False

    def _round_heading(self, line: str, is_bullet: bool) -> bool:
        if is_bullet or line.endswith("?") or len(line) > 80:
            return False
        numbered = _NUMBERED_ROUND.match(line)
        if numbered:
            title = (numbered[2] or "").strip() or f"Round {numbered[1]}"
            self._open_round(title, int(numbered[1]), line)
            return True
        if self.in_prose_section or line.endswith(".") or _METADATA.match(line):
            return False
        if _NAMED_ROUND.match(line):
            self._open_round(line, None, line)
            return True
        return False

    def _open_round(self, title: str, number: int | None, line: str) -> None:
        minutes = _DURATION.search(title)
        clean = _DURATION.sub("", title).strip(" -–—:()")
        clean = re.sub(r"^(?:#+\s*)", "", clean) or title
        existing = next((r for r in self.report.rounds
                         if (number is not None and r.number == number) or _norm(r.title) == _norm(clean)), None)
        if existing is None:
            existing = ReportRound(title=clean, number=number, minutes=int(minutes[1]) if minutes else None)
            self.report.rounds.append(existing)
            if line != clean:
                existing.notes.append(line)  # the heading as written, duration and all
        self.round = existing
        self.question = None
        self.topics_open = False
        self.in_prose_section = False
        self.in_questions_section = False

    def _section(self, line: str, is_bullet: bool) -> bool:
        if is_bullet or not _SECTIONS.match(line):
            return False
        self.in_questions_section = bool(_QUESTIONS_SECTION.match(line))
        self.in_prose_section = not self.in_questions_section and not re.match(
            r"^(?:#+\s*)?(summary|details|interview)\s*:?$", line, re.IGNORECASE)
        self.round = None
        self.question = None
        self.topics_open = False
        self._note(line)
        return True

    def _metadata(self, line: str, is_bullet: bool) -> bool:
        match = _METADATA.match(line)
        if is_bullet or not match or self.round is not None:
            return False
        key, value = match[1].lower(), match[2].strip()
        if key == "level" and value:
            self.report.level = value
        elif key == "topics" and value:
            self.report.topics = [t.strip() for t in value.split(",") if t.strip()]
        elif key in ("role", "position") and value and not self.report.role:
            self.report.role = value
        self.report.details.append(line)
        return True

    def _topic_list(self, text: str) -> bool:
        match = _TOPIC_LIST.match(text)
        if not match or (self.round is None and not self.in_questions_section):
            return False
        inline = [part.strip(" .") for part in re.split(r",|;|\band\b", match[2]) if part.strip(" .")]
        target = self._topic_target()
        target.extend(Topic(name) for name in inline)
        self.topics_open = not inline
        return True

    def _topic_target(self) -> list[Topic]:
        if self.question is not None and self.question_indent >= 0 and self.round is not None:
            # A list right under a question ("- design X" / "  - talked about: ...") is that question's.
            return self.question.topics
        assert self.round is not None
        return self.round.topics

    def _topic_item(self, text: str, is_bullet: bool, indent: int) -> bool:
        if not (self.topics_open and is_bullet and self.round is not None):
            return False
        name, _, detail = text.partition(":")
        if len(name) > 60 or not detail:
            name, detail = text.rstrip("."), ""
        self._topic_target().append(Topic(name.strip(), detail.strip()))
        return True

    def _question(self, text: str, is_bullet: bool, indent: int) -> bool:
        if _QUESTION_LABEL.match(text) and (self.round is not None or self.in_questions_section):
            self.expect_question = True
            return True
        labelled = _QUESTION_LINE.match(text)
        if labelled and (self.round is not None or self.in_questions_section):
            is_task = text.lower().startswith(("the task", "task"))
            self._add_questions(labelled[1], pool=self.round is None, task=is_task)
            return True
        if self.round is None and not self.in_questions_section:
            return False
        if self.question is not None and is_bullet and indent > self.question_indent >= 0:
            self.question.notes.append(text)  # a sub-bullet under a bulleted question
            return True
        if _CODING.match(text):
            self.report.coding.append(text)
            return True
        if (is_bullet or self.in_questions_section) and (text.endswith("?") or _ASKING.match(text)):
            self._add_questions(text, pool=self.round is None, bullet_indent=indent if is_bullet else -1)
            return True
        if not is_bullet and text.endswith("?"):
            self._add_questions(text, pool=self.round is None)
            return True
        return False

    def _add_questions(self, text: str, *, pool: bool, task: bool = False, bullet_indent: int = -1) -> None:
        if pool and self.round is None:
            self.round = ReportRound(title="", number=None)  # filed by kind in ``finish_pool``
            self.report.rounds.append(self.round)
        assert self.round is not None
        preamble, prompts, notes = split_question_text(text)
        if preamble:
            self.round.notes.append(preamble)
        if task and self.round.questions and _similar(prompts[0], self.round.questions[0].prompt):
            # "The task: ..." restating a question already read (a summary and its details).
            self.round.questions[0].notes.extend([text])
            return
        for prompt in prompts:
            if any(_similar(prompt, q.prompt) for q in self.round.questions):
                continue
            self.round.questions.append(ReportQuestion(prompt))
        self.question = self.round.questions[-1] if self.round.questions else None
        if self.question is not None:
            self.question.notes.extend(notes)
        self.question_indent = bullet_indent
        self.topics_open = False

    def _note(self, line: str) -> None:
        if self.question is not None and self.round is not None and not self.topics_open:
            self.question.notes.append(line)
        elif self.round is not None:
            self.round.notes.append(line)
        else:
            self.report.unplaced.append(line)


def split_question_text(text: str) -> tuple[str, list[str], list[str]]:
    """(preamble, prompts, notes) of a "Question:" line.

    "Rapid-fire questions on ML basics: What is X? How do you Y?" is a preamble and two prompts;
    "Design a system to ... . The interviewer asked about ..." is one prompt and a note.
    """
    text = text.strip()
    preamble = ""
    if text.count("?") >= 2 or (":" in text and "?" in text.split(":", 1)[1] and "?" not in text.split(":", 1)[0]):
        head, sep, rest = text.partition(":")
        if sep and "?" not in head and len(head) < 100:
            preamble, text = head.strip(), rest.strip()
    sentences = [s.strip() for s in re.findall(r"[^.?!]+(?:[.?!]+|$)", text) if s.strip()]
    if not sentences:
        return preamble, [text], []
    questions = [s for s in sentences if s.endswith("?")]
    if len(questions) >= 2:
        notes = [s for s in sentences if not s.endswith("?")]
        return preamble, questions, notes
    # One prompt: up to and including its question or command; narrative after it is a note.
    first = sentences[0]
    return preamble, [first], sentences[1:]


def place_topics(round_: ReportRound) -> None:
    """Give each round-level topic to a question: in order when there are as many of each, else by
    shared words; a topic matching no question stays unplaced (and is written as a comment)."""
    topics, round_.topics = round_.topics, []
    questions = round_.questions
    if not topics or not questions:
        round_.unplaced_topics.extend(topics)
        return
    if len(questions) == 1:
        questions[0].topics.extend(topics)
        return
    if len(topics) == len(questions):
        for question, topic in zip(questions, topics, strict=True):
            question.topics.append(topic)
        return
    for topic in topics:
        scores = [_overlap(topic.name + " " + topic.detail, q.prompt) for q in questions]
        best = max(range(len(questions)), key=lambda i: scores[i])
        if scores[best] > 0:
            questions[best].topics.append(topic)
        else:
            round_.unplaced_topics.append(topic)


def finish_pool(report: InterviewReport) -> None:
    """Questions listed without a round (a Glassdoor list) filed into rounds by kind."""
    pooled = [r for r in report.rounds if not r.title]
    if not pooled:
        return
    report.rounds = [r for r in report.rounds if r.title]
    by_kind: dict[str, ReportRound] = {}
    titles = {"rapid-fire": "ML fundamentals", "design": "ML system design", "behavioral": "Behavioral"}
    for pool in pooled:
        for question in pool.questions:
            kind = ReportRound(title="", questions=[question]).kind
            if kind not in by_kind:
                by_kind[kind] = ReportRound(title=titles[kind])
            by_kind[kind].questions.append(question)
        if pool.notes:
            report.unplaced.extend(pool.notes)
        report.unplaced.extend(_topic_text(t) for t in pool.unplaced_topics)
    order = ["rapid-fire", "design", "behavioral"]
    report.rounds.extend(by_kind[k] for k in order if k in by_kind)


def _topic_text(topic: Topic) -> str:
    return f"{topic.name}: {topic.detail}" if topic.detail else topic.name


_STOP_WORDS = (
    "a an the of to and or in on for with how what why when which is are do does you your it its this that "
    "between vs versus about from by as be can would could should we i me my our their they them there"
)
_STOP = frozenset(_STOP_WORDS.split())


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP]


def _overlap(a: str, b: str) -> int:
    stems_b = {w[:5] for w in content_words(b)}
    return sum(1 for w in set(content_words(a)) if w[:5] in stems_b)


def _similar(a: str, b: str) -> bool:
    words_a, words_b = set(content_words(a)), set(content_words(b))
    if not words_a or not words_b:
        return a.strip().lower() == b.strip().lower()
    return len(words_a & words_b) / len(words_a | words_b) >= 0.5


def _norm(title: str) -> str:
    return " ".join(content_words(title))
