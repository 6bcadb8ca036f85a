"""The interview as a plain state machine: which question or probe comes next, and why.

No terminal and no database here: the TUI asks ``current``, stores the turns it shows, and feeds
each answer back with its grade. Resuming replays the stored turns, so the position after a crash
is derived from what was said, never from state saved at a clean exit.

Resume rule
-----------
Prompts (interviewer ``question`` and ``probe`` turns) are the ground truth of where the interview
was: replay jumps to each recorded prompt, even if a later regrade would now choose other probes.
Answers and skips between prompts are fed through ``answer``/``skip`` so the probe state (the main
answer's missed points, the probes already asked, points recovered under probing) is rebuilt.
Only the tail after the last recorded prompt is computed:

- last prompt unanswered: it is the current step again (the candidate is asked it again);
- last prompt skipped: the step after the skip;
- last prompt answered and the answer graded: the step ``answer(text, grade)`` gives (the next
  probe or question), with ``last_answer`` set so practice mode can show the feedback again;
- last prompt answered but not graded (the process died while grading, or the model was
  unavailable): the current step stays on that prompt and ``pending_answer`` holds the stored
  answer. The caller grades it (or gives up: ``None``) and calls ``answer(text, result)`` without
  storing the answer a second time; the next step is then computed exactly as it was live.
- a finished session: no current step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from grader.engine.loader import LoadedPack
from grader.engine.result import GradeResult
from grader.engine.rubric import Question, Round

if TYPE_CHECKING:  # the records are plain dataclasses; importing the store would pull in SQL
    from grader.store.records import SessionRecord, TurnRecord

Mode = Literal["interview", "practice"]
MODES: tuple[str, ...] = ("interview", "practice")
DEFAULT_MAX_PROBES = 2


class ResumeError(ValueError):
    """The stored turns do not fit the pack (a question was removed, or turns are out of order)."""


@dataclass(frozen=True)
class Step:
    """One thing the interviewer says and waits for an answer to."""

    kind: Literal["question", "probe"]
    round: Round
    question: Question
    text: str
    """What the interviewer says: the question's prompt, or the probe of a missed point."""
    probe_point_id: str | None
    index: int
    """1-based number of the question across the whole interview."""
    total: int
    round_index: int
    """1-based number of the round."""
    round_total: int
    question_in_round: int
    """1-based number of the question within its round."""
    questions_in_round: int
    probe_number: int = 0
    """0 for a question, then 1, 2... for its probes."""
    attempt: int = 1
    """1 for the first time a question is asked; 2+ after ``retry`` (practice mode)."""

    @property
    def first_in_round(self) -> bool:
        """The first question of a round (the TUI announces the round here)."""
        return self.kind == "question" and self.question_in_round == 1 and self.attempt == 1

    def prompt_turn(self) -> dict[str, Any]:
        """Keyword arguments for ``Store.add_turn`` recording the interviewer saying this step."""
        return {"role": "interviewer", "kind": self.kind, "text": self.text, **self._where()}

    def answer_turn(self, text: str) -> dict[str, Any]:
        """Keyword arguments for ``Store.add_turn`` recording the candidate's answer to this step."""
        return {"role": "candidate", "kind": "answer", "text": text, **self._where()}

    def skip_turn(self) -> dict[str, Any]:
        """Keyword arguments for ``Store.add_turn`` recording that the candidate skipped this step."""
        return {"role": "candidate", "kind": "skip", "text": "(skipped)", **self._where()}

    def _where(self) -> dict[str, Any]:
        return {"question_id": self.question.id, "round_id": self.round.id, "point_id": self.probe_point_id}


@dataclass(frozen=True)
class Answered:
    """The step most recently answered, what was said, and its grade (``None``: not graded)."""

    step: Step
    text: str
    result: GradeResult | None


@dataclass(frozen=True)
class PendingAnswer:
    """An answer stored before a crash but never graded; grade it, then call ``answer``."""

    turn_id: int
    text: str
    step: Step


@dataclass
class _QuestionState:
    """Probe bookkeeping for the question being asked."""

    main_result: GradeResult | None = None
    probed: list[str] = field(default_factory=list)
    covered_on_probe: set[str] = field(default_factory=set)


class Interview:
    """Rounds in order, each question in order; probes in interview mode, retries in practice mode."""

    def __init__(
        self,
        loaded_pack: LoadedPack,
        mode: str = "interview",
        round_ids: Sequence[str] | None = None,
        max_probes: int = DEFAULT_MAX_PROBES,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if max_probes < 0:
            raise ValueError("max_probes must be 0 or more")
        self.loaded_pack = loaded_pack
        self.mode = mode
        self.max_probes = max_probes
        by_id = {round_.id: round_ for round_ in loaded_pack.pack.rounds}
        if round_ids is None:
            self.rounds: list[Round] = [by_id[rid] for rid in loaded_pack.pack.default_round_ids]
        else:
            unknown = [rid for rid in round_ids if rid not in by_id]
            if unknown:
                raise ValueError(f"unknown round(s) {', '.join(unknown)}; rounds: {', '.join(by_id)}")
            if not round_ids:
                raise ValueError("choose at least one round")
            self.rounds = [by_id[rid] for rid in round_ids]
        self._plan: list[tuple[int, int, Round, Question]] = [
            (r_index, q_index, round_, loaded_pack.questions[qid])
            for r_index, round_ in enumerate(self.rounds)
            for q_index, qid in enumerate(round_.questions)
        ]
        self._pos = 0
        self._attempts: dict[int, int] = {}
        self._prompted: set[int] = set()  # positions seen as recorded prompts while resuming
        self._state = _QuestionState()
        self._last_answered_pos: int | None = None
        self.last_answer: Answered | None = None
        self.pending_answer: PendingAnswer | None = None
        self._step: Step | None = self._question_step(0)

    # -- reading --------------------------------------------------------------------------------

    @property
    def round_ids(self) -> list[str]:
        return [round_.id for round_ in self.rounds]

    @property
    def current(self) -> Step | None:
        """The step waiting for an answer; ``None`` once every question has been asked."""
        return self._step

    @property
    def done(self) -> bool:
        return self._step is None

    @property
    def total_questions(self) -> int:
        return len(self._plan)

    # -- moving ---------------------------------------------------------------------------------

    def answer(self, text: str, result: GradeResult | None) -> Step | None:
        """Take the answer to the current step and its grade (``None``: grading unavailable).

        Interview mode: after a main answer, probe the highest-weight missed points one at a time,
        at most ``max_probes``; a point the candidate covers while answering a probe is not probed.
        Practice mode: straight to the next question (the caller may ``retry`` instead).
        """
        step = self._require_step()
        if result is not None and result.question_id != step.question.id:
            raise ValueError(f"grade is for {result.question_id}, but the question is {step.question.id}")
        self.pending_answer = None
        self.last_answer = Answered(step=step, text=text, result=result)
        if step.kind == "question":
            self._state = _QuestionState(main_result=result)
            self._last_answered_pos = self._pos
        elif result is not None:
            self._state.covered_on_probe.update(point.point_id for point in result.covered)
        probe = self._next_probe() if self.mode == "interview" else None
        self._step = probe if probe is not None else self._advance()
        return self._step

    def skip(self) -> Step | None:
        """Skip the current question (or its remaining probes) and move to the next question."""
        self._require_step()
        self.pending_answer = None
        self.last_answer = None
        self._last_answered_pos = None
        self._step = self._advance()
        return self._step

    def retry(self) -> Step:
        """Practice mode: ask the question just answered again, as a new attempt."""
        if self.mode != "practice":
            raise RuntimeError("retry is only available in practice mode")
        if self._last_answered_pos is None:
            raise RuntimeError("no answered question to retry")
        self._pos = self._last_answered_pos
        self._state = _QuestionState()
        self.pending_answer = None
        self._attempts[self._pos] = self._attempts.get(self._pos, 1) + 1
        self._step = self._question_step(self._pos)
        return self._step

    # -- resuming -------------------------------------------------------------------------------

    @classmethod
    def resume(
        cls,
        loaded_pack: LoadedPack,
        session: SessionRecord,
        turns: Sequence[TurnRecord],
        grades: Mapping[int, GradeResult],
        *,
        max_probes: int = DEFAULT_MAX_PROBES,
    ) -> Interview:
        """Rebuild the interview at the exact step the turns reached (see the module docstring).

        ``grades`` maps answer turn ids to their newest grade (``Store.latest_grades``).
        """
        interview = cls(loaded_pack, mode=session.mode, round_ids=session.round_ids, max_probes=max_probes)
        ordered = sorted(turns, key=lambda turn: turn.seq)
        last_prompt_seq = max((turn.seq for turn in ordered if turn.is_prompt), default=None)
        responded = True
        for turn in ordered:
            if turn.is_prompt:
                interview._jump(turn)
                responded = False
                continue
            if not turn.is_response:
                continue  # briefings and notes do not move the interview
            if last_prompt_seq is None or responded:
                raise ResumeError(f"turn {turn.seq} answers no open question")
            responded = True
            interview._check_matches(turn)
            result = grades.get(turn.id)
            if turn.seq < last_prompt_seq:
                # Something was asked after this answer: the recorded prompt says what came next.
                interview._note(turn, result)
            elif turn.kind == "skip":
                interview.skip()
            elif result is None:
                # Stored but never graded, and nothing was asked after it: the caller grades it.
                interview.pending_answer = PendingAnswer(turn_id=turn.id, text=turn.text,
                                                         step=interview._require_step())
            else:
                interview.answer(turn.text, result)
        if session.finished:
            interview._step = None
            interview.pending_answer = None
        return interview

    def _note(self, turn: TurnRecord, result: GradeResult | None) -> None:
        """Replay an answer or skip that a later prompt followed: update probe state, do not move."""
        step = self._require_step()
        if turn.kind == "skip":
            self.last_answer = None
            self._last_answered_pos = None
        elif step.kind == "question":
            self._state = _QuestionState(main_result=result)
            self._last_answered_pos = self._pos
            self.last_answer = Answered(step=step, text=turn.text, result=result)
        else:
            if result is not None:
                self._state.covered_on_probe.update(point.point_id for point in result.covered)
            self.last_answer = Answered(step=step, text=turn.text, result=result)

    def _jump(self, turn: TurnRecord) -> None:
        """Make the recorded prompt the current step: the record wins over what a grade would pick."""
        pos = self._find(turn)
        if turn.kind == "question":
            if pos in self._prompted:  # asked again: a practice-mode retry
                self._attempts[pos] = self._attempts.get(pos, 1) + 1
            self._prompted.add(pos)
            self._pos = pos
            self._state = _QuestionState()
            self._step = self._question_step(pos)
            return
        if pos != self._pos or self._step is None:
            raise ResumeError(f"turn {turn.seq} probes {turn.question_id}, which was not being asked")
        point_id = turn.point_id or ""
        self._state.probed.append(point_id)
        self._step = self._probe_step(point_id, probe_number=len(self._state.probed), text=turn.text)

    def _find(self, turn: TurnRecord) -> int:
        for pos, (_, _, round_, question) in enumerate(self._plan):
            if question.id == turn.question_id and (turn.round_id in (None, round_.id)):
                return pos
        raise ResumeError(
            f"turn {turn.seq} asks {turn.question_id!r}, which is not in the rounds "
            f"{', '.join(self.round_ids)} of the {self.loaded_pack.company} pack any more"
        )

    def _check_matches(self, turn: TurnRecord) -> None:
        step = self._require_step()
        if turn.question_id is not None and turn.question_id != step.question.id:
            raise ResumeError(
                f"turn {turn.seq} answers {turn.question_id}, but the question asked was {step.question.id}"
            )

    # -- internals ------------------------------------------------------------------------------

    def _require_step(self) -> Step:
        if self._step is None:
            raise RuntimeError("the interview is over")
        return self._step

    def _advance(self) -> Step | None:
        self._pos += 1
        self._state = _QuestionState()
        return self._question_step(self._pos)

    def _question_step(self, pos: int) -> Step | None:
        if pos >= len(self._plan):
            return None
        r_index, q_index, round_, question = self._plan[pos]
        return Step(
            kind="question",
            round=round_,
            question=question,
            text=question.prompt,
            probe_point_id=None,
            index=pos + 1,
            total=len(self._plan),
            round_index=r_index + 1,
            round_total=len(self.rounds),
            question_in_round=q_index + 1,
            questions_in_round=len(round_.questions),
            attempt=self._attempts.get(pos, 1),
        )

    def _next_probe(self) -> Step | None:
        state = self._state
        if state.main_result is None or len(state.probed) >= self.max_probes:
            return None
        skip = set(state.probed) | state.covered_on_probe
        missed = [point for point in state.main_result.missed if point.point_id not in skip]
        if not missed:
            return None
        # Highest weight first; ties keep the rubric's order (sorted is stable).
        point = sorted(missed, key=lambda p: -p.weight)[0]
        state.probed.append(point.point_id)
        return self._probe_step(point.point_id, probe_number=len(state.probed), fallback=point.probe)

    def _probe_step(self, point_id: str, *, probe_number: int, text: str | None = None,
                    fallback: str = "") -> Step:
        r_index, q_index, round_, question = self._plan[self._pos]
        if text is None:
            try:
                text = question.point(point_id).probe
            except KeyError:  # the point was renamed since the grade was stored
                text = fallback
        return Step(
            kind="probe",
            round=round_,
            question=question,
            text=text,
            probe_point_id=point_id,
            index=self._pos + 1,
            total=len(self._plan),
            round_index=r_index + 1,
            round_total=len(self.rounds),
            question_in_round=q_index + 1,
            questions_in_round=len(round_.questions),
            probe_number=probe_number,
            attempt=self._attempts.get(self._pos, 1),
        )
