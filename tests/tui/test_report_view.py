"""The report as the TUI lays it out: verdict line, skipped questions, the study list."""

from __future__ import annotations

from grader.interview.report import build_report
from grader.store import Store
from grader.tui.report_view import report_markdown, verdict_line
from tests.interview.sample_pack import QUESTIONS, make_result, sample_pack

OVERFITTING, L1L2, CTR = QUESTIONS


def _report(*, finish: bool, skip_l1l2: bool = True):
    pack = sample_pack()
    with Store(":memory:") as store:
        session_id = store.create_session("acme", "practice", ["screen", "design"])
        for question in QUESTIONS[: 2 if skip_l1l2 else 1]:
            store.add_turn(session_id, role="interviewer", kind="question", text=question.prompt,
                           question_id=question.id, round_id="screen")
            if question is L1L2:
                store.add_turn(session_id, role="candidate", kind="skip", text="", question_id=question.id,
                               round_id="screen")
            else:
                turn_id = store.add_turn(session_id, role="candidate", kind="answer", text="Gap.",
                                         question_id=question.id, round_id="screen")
                store.record_grade(turn_id, make_result(question, {"gap"}))
        if finish:
            store.finish_session(session_id)
        return build_report(pack, store.turns(session_id), store.latest_grades(session_id),
                            session=store.session(session_id))


def test_a_skipped_question_shows_its_model_answer():
    text = report_markdown(_report(finish=True))
    skipped = text[text.index(f"### 1.2 {L1L2.prompt}"):]
    assert skipped.index("**Skipped**") < skipped.index("> **Model answer**")
    assert "> L1 gives sparse weights; L2 shrinks all weights smoothly." in skipped


def test_study_list_shows_urls_and_human_reasons():
    text = report_markdown(_report(finish=True))
    study = text[text.index("## Study list"):]
    assert "https://example.org/esl7" in study and "https://example.org/esl3" in study
    assert "acme.screen" not in study
    # The skipped question weighs 4, the missed overfitting points 3: the skipped one's resource first.
    assert study.index("ESL chapter 3") < study.index("ESL chapter 7")


def test_an_unfinished_session_says_so_and_gives_no_verdict():
    line = verdict_line(_report(finish=False))
    assert line.startswith("Unfinished · ") and "no hire signal" in line
    assert "HIRE" not in line


def test_the_report_says_not_sure_where_the_grader_is_unsure_after_a_round_trip_through_sqlite():
    from dataclasses import replace

    pack = sample_pack()
    result = make_result(OVERFITTING, {"gap"})
    near = "Maybe it depends on the data."
    points = [
        replace(point, probability=0.6) if point.covered else replace(point, probability=0.45, evidence=near)
        for point in result.points
    ]
    with Store(":memory:") as store:
        session_id = store.create_session("acme", "practice", ["screen"])
        store.add_turn(session_id, role="interviewer", kind="question", text=OVERFITTING.prompt,
                       question_id=OVERFITTING.id, round_id="screen")
        turn_id = store.add_turn(session_id, role="candidate", kind="answer", text=f"Gap. {near}",
                                 question_id=OVERFITTING.id, round_id="screen")
        store.record_grade(turn_id, replace(result, points=points))
        store.finish_session(session_id)
        report = build_report(pack, store.turns(session_id), store.latest_grades(session_id),
                              session=store.session(session_id))
    section = report_markdown(report).split(f"### 1.1 {OVERFITTING.prompt}")[1].split("###")[0]
    assert "(a close call: credited, but say it more plainly)" in section
    uncredited = [point for point in OVERFITTING.points if point.id != "gap"]
    for point in uncredited:
        assert f"- ? **{point.title}**, not sure: your sentence “{near}” may say this" in section
    assert "- ✗" not in section
