import pytest

from grader.engine.loader import LoadedPack
from grader.engine.rubric import Resource
from grader.interview import Interview
from grader.interview.report import build_report, grade_summary, hire_signal, render_markdown
from grader.store import Store
from tests.interview.sample_pack import QUESTIONS, make_result, sample_pack

OVERFITTING, L1L2, CTR = QUESTIONS


@pytest.fixture
def pack():
    return sample_pack()


def _session(pack, store, mode, actions, *, finish=True):
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
    if finish:
        store.finish_session(session_id)
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
    assert report.study_list[0].reasons == [f"skipped “{L1L2.prompt}”"]
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



def test_an_unfinished_session_has_figures_but_no_hire_signal(pack):
    with Store() as store:
        session_id = _session(pack, store, "interview", [
            ("All three.", {"gap", "noise", "capacity"}),
            ("Both.", {"sparsity", "shrink"}),
        ], finish=False)
        report = _report(pack, store, session_id)
    figures = report.figures
    assert (figures.questions, figures.answered, figures.graded, figures.unreached) == (3, 2, 2, 1)
    assert figures.mean_grade == 4.0 and figures.finished is False
    assert report.hire_signal == "no signal" and not figures.has_signal
    assert report.hire_statement.startswith("No signal: the session is unfinished.")
    assert grade_summary(figures) == "4.0 so far, 2 of 3 answered"
    assert "4.0 / 4 so far, 2 of 3 answered (unfinished, no hire signal)" in render_markdown(report)


def test_practice_with_few_answers_never_says_hire(pack):
    with Store() as store:
        # Finished practice: one perfect answer, the rest skipped. The mean is low, but even the
        # skips aside, one answer out of three is too few for a verdict.
        few = _session(pack, store, "practice", [("All three.", {"gap", "noise", "capacity"}), "skip", "skip"])
        enough = _session(pack, store, "practice", [
            ("All three.", {"gap", "noise", "capacity"}), ("Both.", {"sparsity", "shrink"}), "skip",
        ])
        few_report, enough_report = _report(pack, store, few), _report(pack, store, enough)
    assert few_report.figures.answered == 1 and few_report.hire_signal == "no signal"
    assert "practice with 1 of 3 questions answered" in few_report.hire_statement
    assert grade_summary(few_report.figures) == "1.3, no signal"
    assert enough_report.figures.answered == 2 and enough_report.hire_signal == "borderline"


def test_every_view_reads_the_same_figures(pack):
    """Mean grade and counts: the report, history's summary and the export say the same numbers."""
    with Store() as store:
        session_id = _session(pack, store, "interview", [
            ("Gap only.", {"gap"}), ("?", set()), ("?", set()), "skip",
            ("Labels from logged clicks.", {"labels", "calibration", "online"}),
        ])
        report = _report(pack, store, session_id)
    figures = report.figures
    assert (figures.answered, figures.skipped, figures.graded) == (2, 1, 2)
    assert figures.mean_grade == report.overall_grade == pytest.approx((2 + 0 + 4) / 3)
    assert grade_summary(figures) == "2.0 no hire"
    assert "**Overall grade** 2.0 / 4 (no hire)" in render_markdown(report)


def test_study_list_has_one_entry_per_resource_ranked_by_missed_weight(pack):
    shared = {"title": "ESL chapter 7", "url": "https://example.org/esl7"}
    l1l2 = L1L2.model_copy(update={"resources": [Resource.model_validate(shared),
                                                 Resource(title="ESL chapter 3", url="https://example.org/esl3")]})
    two_lists = LoadedPack(pack=pack.pack, questions={**pack.questions, L1L2.id: l1l2}, root=pack.root)
    with Store() as store:
        session_id = _session(two_lists, store, "practice", [
            ("Gap only.", {"gap"}),                 # missed noise 2 + capacity 1
            ("Sparsity only.", {"sparsity"}),       # missed shrink 2
            ("Labels.", {"labels", "calibration"}),  # missed online 1
        ])
        report = _report(two_lists, store, session_id)
    titles = [item.title for item in report.study_list]
    assert titles == ["ESL chapter 7", "ESL chapter 3", "Practical lessons from predicting clicks on ads at Facebook"]
    first = report.study_list[0]
    assert first.missed_weight == 3 + 2 and len(first.reasons) == 2
    assert first.reasons[0] == "Fits noise, Too much capacity (missed in “What is overfitting?”)"
    # Human words only: no internal question ids in the reasons.
    assert not any("acme." in reason for item in report.study_list for reason in item.reasons)


def test_a_skipped_question_shows_its_model_answer_in_the_export(pack):
    with Store() as store:
        session_id = _session(pack, store, "interview", ["skip", "skip", "skip"])
        text = render_markdown(_report(pack, store, session_id))
    assert "> **Model answer**\n>\n> L1 gives sparse weights; L2 shrinks all weights smoothly." in text
