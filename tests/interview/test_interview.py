import pytest

from grader.interview import Interview, ResumeError
from grader.store import Store
from tests.interview.sample_pack import QUESTIONS, make_result, sample_pack

OVERFITTING, L1L2, CTR = QUESTIONS


@pytest.fixture
def pack():
    return sample_pack()


def test_starts_at_the_first_question_of_the_first_round(pack):
    interview = Interview(pack)
    step = interview.current
    assert (step.kind, step.question.id, step.round.id) == ("question", OVERFITTING.id, "screen")
    assert (step.index, step.total, step.round_index, step.round_total) == (1, 3, 1, 2)
    assert (step.question_in_round, step.questions_in_round, step.attempt) == (1, 2, 1)
    assert step.first_in_round and step.text == OVERFITTING.prompt
    assert step.prompt_turn() == {"role": "interviewer", "kind": "question", "text": OVERFITTING.prompt,
                                  "question_id": OVERFITTING.id, "round_id": "screen", "point_id": None}


def test_probes_the_two_highest_weight_missed_points_then_moves_on(pack):
    interview = Interview(pack)
    first = interview.answer("Something vague.", make_result(OVERFITTING, set()))
    assert (first.kind, first.probe_point_id, first.probe_number) == ("probe", "gap", 1)
    assert first.text == OVERFITTING.point("gap").probe
    assert first.answer_turn("x")["point_id"] == "gap"
    second = interview.answer("Still vague.", make_result(OVERFITTING, set()))
    assert (second.kind, second.probe_point_id, second.probe_number) == ("probe", "noise", 2)
    # Capacity is missed too, but two probes is the limit.
    third = interview.answer("No idea.", make_result(OVERFITTING, set()))
    assert (third.kind, third.question.id) == ("question", L1L2.id)
    assert not third.first_in_round


def test_a_point_covered_under_probing_is_not_probed_again(pack):
    interview = Interview(pack)
    interview.answer("Vague.", make_result(OVERFITTING, {"capacity"}))
    step = interview.answer("Low train error, high test error; it memorises noise.",
                            make_result(OVERFITTING, {"gap", "noise"}))
    assert step.kind == "question" and step.question.id == L1L2.id


def test_covered_points_are_never_probed(pack):
    interview = Interview(pack)
    step = interview.answer("Good.", make_result(OVERFITTING, {"gap"}))
    assert step.probe_point_id == "noise"
    assert interview.answer("ok", make_result(OVERFITTING, {"gap"})).probe_point_id == "capacity"


def test_full_answer_and_ungraded_answer_get_no_probes(pack):
    interview = Interview(pack)
    assert interview.answer("All of it.", make_result(OVERFITTING, {"gap", "noise", "capacity"})).question.id == L1L2.id
    step = interview.answer("Grading is down.", None)
    assert (step.kind, step.question.id, step.round.id, step.first_in_round) == ("question", CTR.id, "design", True)
    assert interview.last_answer.result is None and interview.last_answer.text == "Grading is down."


def test_skip_moves_to_the_next_question_from_a_question_or_a_probe(pack):
    interview = Interview(pack)
    assert interview.skip().question.id == L1L2.id
    assert interview.answer("?", make_result(L1L2, set())).kind == "probe"
    assert interview.skip().question.id == CTR.id
    assert interview.skip() is None
    assert interview.done and interview.current is None
    with pytest.raises(RuntimeError, match="over"):
        interview.answer("late", None)


def test_round_selection_and_max_probes(pack):
    interview = Interview(pack, round_ids=["design"], max_probes=0)
    assert interview.current.question.id == CTR.id and interview.total_questions == 1
    assert interview.answer("short", make_result(CTR, set())) is None
    with pytest.raises(ValueError, match="unknown round"):
        Interview(pack, round_ids=["onsite"])
    with pytest.raises(ValueError, match="mode"):
        Interview(pack, mode="exam")


def test_grade_for_another_question_is_refused(pack):
    with pytest.raises(ValueError, match="grade is for"):
        Interview(pack).answer("x", make_result(L1L2, set()))


def test_practice_mode_never_probes_and_can_retry(pack):
    interview = Interview(pack, mode="practice")
    nxt = interview.answer("Vague.", make_result(OVERFITTING, set()))
    assert (nxt.kind, nxt.question.id) == ("question", L1L2.id)
    again = interview.retry()
    assert (again.question.id, again.attempt, again.first_in_round) == (OVERFITTING.id, 2, False)
    assert interview.answer("Better.", make_result(OVERFITTING, {"gap"})).question.id == L1L2.id
    interview.skip()
    with pytest.raises(RuntimeError, match="no answered question"):
        interview.retry()
    assert interview.answer("last", make_result(CTR, set())) is None
    assert interview.retry().question.id == CTR.id and not interview.done


def test_retry_is_for_practice_mode(pack):
    interview = Interview(pack)
    interview.answer("x", None)
    with pytest.raises(RuntimeError, match="practice"):
        interview.retry()


# -- resume ---------------------------------------------------------------------------------------
#
# A scripted interview is run live against a real Store. After every write the test notes where
# the live interview is; resuming from the turns and grades stored at that instant must land on
# the same step (and report an ungraded tail answer as pending).

INTERVIEW_SCRIPT = [
    ("answer", {"capacity"}),         # Q1 -> probe gap
    ("answer", {"gap"}),              # -> probe noise
    ("skip", None),                   # -> Q2
    ("answer", None),                 # grading unavailable -> Q3, no probes
    ("answer", set()),                # Q3 -> probe labels
    ("answer", {"labels", "calibration"}),  # calibration reached too -> probe online
    ("answer", {"online"}),           # -> done
]

PRACTICE_SCRIPT = [
    ("answer", {"gap"}),              # Q1 -> feedback
    ("retry", None),                  # Q1 again, attempt 2
    ("answer", {"gap", "noise"}),     # -> Q2
    ("skip", None),                   # -> Q3
    ("answer", None),                 # ungraded -> done
]


def _run_live(pack, store, mode, script):
    session_id = store.create_session("acme", mode, [r.id for r in pack.pack.rounds])
    interview = Interview(pack, mode=mode)
    snapshots = []

    def snap(pending=None):
        turns = store.turns(session_id)
        snapshots.append((len(turns), dict(store.latest_grades(session_id)), interview.current, pending))

    snap()  # nothing asked yet
    store.add_turn(session_id, role="system", kind="briefing", text="Welcome to Acme.")
    snap()
    for action, covered in script:
        step = interview.current
        if action == "retry":
            step = interview.retry()
            store.add_turn(session_id, **step.prompt_turn())
            snap()
            continue
        if not store.turns(session_id)[-1].is_prompt:
            store.add_turn(session_id, **step.prompt_turn())
            snap()
        if action == "skip":
            store.add_turn(session_id, **step.skip_turn())
            interview.skip()
            snap()
            continue
        turn_id = store.add_turn(session_id, **step.answer_turn(f"answer to {step.text}"))
        snap(pending=turn_id)  # the answer is stored, grading has not finished
        result = make_result(step.question, covered) if covered is not None else None
        if result is not None:
            store.record_grade(turn_id, result)
        interview.answer(f"answer to {step.text}", result)
        if result is not None:
            snap()
        elif interview.current is not None:
            store.add_turn(session_id, **interview.current.prompt_turn())
            snap()
    return session_id, snapshots, interview


@pytest.mark.parametrize(("mode", "script"), [("interview", INTERVIEW_SCRIPT), ("practice", PRACTICE_SCRIPT)])
def test_resume_lands_on_the_live_step_at_every_position(pack, mode, script):
    with Store() as store:
        session_id, snapshots, live = _run_live(pack, store, mode, script)
        assert live.done
        all_turns = store.turns(session_id)
        session = store.session(session_id)
    kinds_seen = set()
    for count, grades, expected, pending in snapshots:
        turns = all_turns[:count]
        resumed = Interview.resume(pack, session, turns, grades)
        assert resumed.current == expected, f"after {count} turns"
        if pending is None:
            assert resumed.pending_answer is None, f"after {count} turns"
        else:
            assert resumed.pending_answer.turn_id == pending
            assert resumed.pending_answer.step == expected
        if turns:
            kinds_seen.add(turns[-1].kind)
    assert kinds_seen >= {"briefing", "question", "answer", "skip"} | ({"probe"} if mode == "interview" else set())


def test_resumed_pending_answer_continues_exactly_like_the_live_run(pack):
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        live = Interview(pack, round_ids=["screen"])
        store.add_turn(session_id, **live.current.prompt_turn())
        turn_id = store.add_turn(session_id, **live.current.answer_turn("It overfits."))
        # SIGKILL here: the answer is stored, its grade never was.
        resumed = Interview.resume(pack, store.session(session_id), store.turns(session_id),
                                   store.latest_grades(session_id))
    assert resumed.pending_answer.turn_id == turn_id and resumed.pending_answer.text == "It overfits."
    result = make_result(OVERFITTING, {"noise"})
    assert resumed.answer("It overfits.", result) == live.answer("It overfits.", result)
    assert resumed.pending_answer is None
    assert resumed.current.probe_point_id == "gap"


def test_resume_after_grading_shows_last_answer_for_practice_feedback(pack):
    with Store() as store:
        session_id = store.create_session("acme", "practice", ["screen"])
        live = Interview(pack, mode="practice", round_ids=["screen"])
        store.add_turn(session_id, **live.current.prompt_turn())
        turn_id = store.add_turn(session_id, **live.current.answer_turn("Memorises noise."))
        result = make_result(OVERFITTING, {"noise"})
        store.record_grade(turn_id, result)
        resumed = Interview.resume(pack, store.session(session_id), store.turns(session_id),
                                   store.latest_grades(session_id))
    assert resumed.current.question.id == L1L2.id
    assert resumed.last_answer.result == result and resumed.last_answer.step.question.id == OVERFITTING.id
    assert resumed.retry().question.id == OVERFITTING.id


def test_recorded_probes_win_over_what_a_regrade_would_choose(pack):
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        live = Interview(pack, round_ids=["screen"])
        store.add_turn(session_id, **live.current.prompt_turn())
        turn_id = store.add_turn(session_id, **live.current.answer_turn("vague"))
        store.record_grade(turn_id, make_result(OVERFITTING, set()))
        probe = live.answer("vague", make_result(OVERFITTING, set()))
        store.add_turn(session_id, **probe.prompt_turn())
        # A later regrade says the answer covered every point; the probe was still asked.
        store.record_grade(turn_id, make_result(OVERFITTING, {"gap", "noise", "capacity"}))
        resumed = Interview.resume(pack, store.session(session_id), store.turns(session_id),
                                   store.latest_grades(session_id))
    assert resumed.current == probe


def test_resume_of_a_finished_session_has_no_step(pack):
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        live = Interview(pack, round_ids=["screen"])
        store.add_turn(session_id, **live.current.prompt_turn())
        store.finish_session(session_id)
        resumed = Interview.resume(pack, store.session(session_id), store.turns(session_id), {})
    assert resumed.done and resumed.pending_answer is None


def test_resume_rejects_turns_that_do_not_fit_the_pack(pack):
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        store.add_turn(session_id, role="interviewer", kind="question", text="Gone?",
                       question_id="acme.screen.removed", round_id="screen")
        with pytest.raises(ResumeError, match=r"acme\.screen\.removed"):
            Interview.resume(pack, store.session(session_id), store.turns(session_id), {})
        other = store.create_session("acme", "interview", ["screen"])
        store.add_turn(other, role="candidate", kind="answer", text="Unprompted.")
        with pytest.raises(ResumeError, match="no open question"):
            Interview.resume(pack, store.session(other), store.turns(other), {})
