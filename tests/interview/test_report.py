import pytest

from grader.interview import Interview
from grader.interview.report import build_report, hire_signal, render_markdown
from grader.store import Store
from tests.interview.sample_pack import QUESTIONS, make_result, sample_pack

OVERFITTING, L1L2, CTR = QUESTIONS


@pytest.fixture
def pack():
    return sample_pack()


def _session(pack, store, mode, actions):
    """Run the interview with (text, covered-or-None, or 'skip'/'retry') actions; return session id."""
    session_id = store.create_session("acme", mode, ["screen", "design"])
    store.add_turn(session_id, role="system", kind="briefing", text="Welcome.")
    interview = Interview(pack, mode=mode)
    prompt_written = False
    for action in actions:
        if action == "retry":
            interview.retry()
            prompt_written = False
            continue
        step = interview.current
        if not prompt_written:
            store.add_turn(session_id, **step.prompt_turn())
        if action == "skip":
            store.add_turn(session_id, **step.skip_turn())
            interview.skip()
        else:
            text, covered = action
            turn_id = store.add_turn(session_id, **step.answer_turn(text))
            result = None if covered is None else make_result(step.question, covered)
            if result is not None:
                store.record_grade(turn_id, result)
            interview.answer(text, result)
        prompt_written = False
    return session_id


def _report(pack, store, session_id):
    return build_report(pack, store.turns(session_id), store.latest_grades(session_id),
                        session=store.session(session_id))


def test_hire_signal_states_the_bar():
    assert hire_signal(None, 3.0) == "no signal"
    assert hire_signal(3.0, 3.0) == "hire"
    assert hire_signal(2.5, 3.0) == "borderline"
    assert hire_signal(2.49, 3.0) == "no hire"


def test_report_grades_means_probes_and_study_list(pack):
    with Store() as store:
        session_id = _session(pack, store, "interview", [
            ("Training error low, test error high.", {"gap"}),   # Q1 grade round(4*3/6)=2 -> probes noise, capacity
            ("It memorises noise.\nAnd more.", {"noise"}),        # noise reached under probing
            ("No idea.", set()),                                  # capacity stays missed
            "skip",                                                # Q2 skipped -> 0
            ("Labels from logged clicks.", {"labels", "calibration", "online"}),  # Q3 grade 4
        ])
        report = _report(pack, store, session_id)
    q1, q2, q3 = report.questions
    assert (q1.status, q1.grade, q2.status, q2.grade, q3.grade) == ("graded", 2, "skipped", 0, 4)
    assert [p.point_id for p in q1.covered] == ["gap"]
    assert [p.point_id for p in q1.covered_when_probed] == ["noise"]
    assert q1.covered_when_probed[0].evidence == "I said the model memorises noise in the training set."
    assert [p.point_id for p in q1.missed] == ["capacity"]
    assert [r.mean_grade for r in report.rounds] == [1.0, 4.0]
    assert report.overall_grade == pytest.approx(2.0)
    assert report.hire_signal == "no hire"
    assert "2.00" in report.hire_statement and "3.0" in report.hire_statement
    assert "skipped questions count 0" in report.hire_statement
    assert [p.point_id for p in report.weakest] == ["capacity"]
    # Heaviest covered points first (equal confidence here); points reached only when probed are not strengths.
    assert [p.point_id for p in report.strongest] == ["gap", "labels", "calibration", "online"]
    assert [item.title for item in report.study_list] == ["ESL chapter 3", "ESL chapter 7"]
    assert report.study_list[0].reasons == [f"skipped {L1L2.id}"]
    assert [t.kind for t in report.preamble] == ["briefing"]
    assert [t.kind for t in q1.turns] == ["question", "answer", "probe", "answer", "probe", "answer"]


def test_ungraded_and_unreached_questions_are_left_out_and_named(pack):
    with Store() as store:
        session_id = _session(pack, store, "interview", [
            ("All three.", {"gap", "noise", "capacity"}),
            ("Grading was down.", None),
        ])
        report = _report(pack, store, session_id)
    assert [q.status for q in report.questions] == ["graded", "ungraded", "unanswered"]
    # A mean over the graded answer is shown, but no verdict while an answer waits for grading.
    assert report.overall_grade == 4.0 and report.hire_signal == "no signal"
    assert report.hire_statement.startswith("No signal yet")
    assert "1 answer(s) not graded yet" in report.hire_statement
    assert "1 question(s) not reached" in report.hire_statement
    assert report.rounds[1].mean_grade is None


def test_practice_retry_counts_the_last_attempt(pack):
    with Store() as store:
        session_id = _session(pack, store, "practice", [
            ("First try.", set()), "retry", ("Second try.", {"gap", "noise"}),
        ])
        report = _report(pack, store, session_id)
    q1 = report.questions[0]
    assert (q1.attempts, q1.answer, q1.grade) == (2, "Second try.", 3)
    assert len([t for t in q1.turns if t.kind == "answer"]) == 2


def test_no_graded_answer_gives_no_signal(pack):
    report = build_report(pack, [], {})
    assert report.overall_grade is None and report.hire_signal == "no signal"
    assert report.hire_statement.startswith("No signal")


def test_markdown_reads_as_a_transcript_with_grades_and_report(pack):
    with Store() as store:
        session_id = _session(pack, store, "interview", [
            ("Training error low, test error high.", {"gap"}),
            ("It memorises noise.\nAnd more.", {"noise"}),
            ("No idea.", set()),
            "skip",
            ("Labels from logged clicks.", {"labels", "calibration", "online"}),
        ])
        report = _report(pack, store, session_id)
    text = render_markdown(report)
    assert text.startswith("# Acme mock interview: ML Engineer\n")
    assert f"**Session** `{session_id}`" in text and "**Mode** interview" in text
    assert "**Overall grade** 2.0 / 4 (no hire)" in text
    assert "## Round 1: Screen" in text and "## Round 2: Design" in text
    assert "### 1.1 What is overfitting?" in text
    assert "> **Interviewer:** What is overfitting?" in text
    # Every line of a multi-line answer stays inside the blockquote.
    assert "> **Candidate:** It memorises noise.\n> And more." in text
    assert f"> **Interviewer (follow-up):** {OVERFITTING.point('noise').probe}" in text
    assert "- ✅ **Train/test gap**: “I said training error is low but test error is high.”" in text
    assert "Covered when probed" in text and "- ❌ **Too much capacity**" in text
    assert "**Skipped** (counts as grade 0)." in text
    assert text.index("## Report") > text.index("### 2.1")
    assert "[ESL chapter 7](https://example.org/esl7)" in text
    assert "### Weakest points" in text
    assert "## Round" not in render_markdown(report, transcript=False)


def test_markdown_names_misconceptions(pack):
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        interview = Interview(pack, round_ids=["screen"])
        store.add_turn(session_id, **interview.current.prompt_turn())
        turn_id = store.add_turn(session_id, **interview.current.answer_turn("Wrong."))
        store.record_grade(turn_id, make_result(OVERFITTING, {"gap"}, misconception_on="noise"))
        report = _report(pack, store, session_id)
    assert [m.claim for m in report.questions[0].misconceptions] == ["A wrong claim"]
    assert (
        "- ⚠️ **A wrong claim**: your sentence “I said the wrong thing.” reads as this claim. The truth."
        in render_markdown(report)
    )

