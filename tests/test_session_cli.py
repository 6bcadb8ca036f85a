import json

import pytest
from click.testing import CliRunner

from grader import session_cli
from grader.engine.encoder import ModelUnavailableError
from grader.interview import Interview
from grader.store import Store
from tests.fakes import HashingEncoder
from tests.interview.sample_pack import QUESTIONS, make_result, sample_pack, write_sample_pack

OVERFITTING, L1L2, CTR = QUESTIONS


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    """A tmp home and rubrics folder holding the sample pack; regrade uses the fake encoder."""
    monkeypatch.setenv("MOCKINT_HOME", str(tmp_path / "home"))
    write_sample_pack(tmp_path / "rubrics")
    monkeypatch.setenv("MOCKINT_RUBRICS", str(tmp_path / "rubrics"))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables at a width that does not truncate ids
    monkeypatch.setattr(session_cli, "make_encoder", HashingEncoder)


@pytest.fixture
def cli():
    from grader.cli import cli as mockint

    return mockint


def invoke(cli, *args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _session(covered_by_question, *, mode="interview", finish=True):
    """A session answering each question once: covered point ids, None (ungraded) or 'skip'."""
    pack = sample_pack()
    with Store() as store:
        session_id = store.create_session("acme", mode, ["screen", "design"])
        interview = Interview(pack, mode=mode, max_probes=0)
        for question in QUESTIONS:
            step = interview.current
            assert step.question.id == question.id
            store.add_turn(session_id, **step.prompt_turn())
            covered = covered_by_question.get(question.id, set())
            if covered == "skip":
                store.add_turn(session_id, **step.skip_turn())
                interview.skip()
                continue
            turn_id = store.add_turn(session_id, **step.answer_turn(
                "Training error is low but test error is high. The model memorises noise in the training set."))
            result = None if covered is None else make_result(question, covered)
            if result is not None:
                store.record_grade(turn_id, result)
            interview.answer("", result)
        if finish:
            store.finish_session(session_id)
    return session_id


def test_history_without_sessions(cli):
    result = invoke(cli, "history")
    assert result.exit_code == 0
    assert "No sessions yet" in result.output
    assert json.loads(invoke(cli, "history", "--json").output) == []


def test_history_json_lists_sessions_newest_first_with_grades(cli):
    old = _session({OVERFITTING.id: {"gap", "noise", "capacity"}, L1L2.id: "skip", CTR.id: {"labels"}})
    new = _session({OVERFITTING.id: None}, mode="practice", finish=False)
    rows = json.loads(invoke(cli, "history", "--json").output)
    assert [row["id"] for row in rows] == [new, old]
    assert rows[1]["overall_grade"] == pytest.approx((4 + 0 + 2) / 3)
    assert rows[1]["status"] == "finished" and rows[1]["mode"] == "interview"
    assert rows[1]["round_ids"] == ["screen", "design"] and rows[1]["answers"] == 2
    assert rows[0]["status"] == "in-progress" and rows[0]["mode"] == "practice"
    assert rows[1]["hire_signal"] == "no hire"
    assert rows[0]["hire_signal"] is None  # no hire signal for a session cut short


def test_history_table(cli):
    session_id = _session({OVERFITTING.id: {"gap", "noise", "capacity"}, L1L2.id: {"sparsity", "shrink"},
                           CTR.id: {"labels", "calibration", "online"}})
    result = invoke(cli, "history")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].strip() == "mockint sessions: acme"  # one company: named once, no column for it
    row = next(line for line in lines if session_id in line)
    assert row.split() == [*row.split()[:2], session_id, "interview", "screen", "4.0", "hire", "finished"]
    assert lines[lines.index(row) + 1].strip() == "design"


def test_history_table_fits_80_columns_with_several_companies(cli, monkeypatch, tmp_path):
    session_id = _session({})
    with Store() as store:
        other = store.create_session("globex", "practice", ["onsite"])
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke(cli, "history")
    assert max(len(line) for line in result.output.splitlines()) <= 80
    rows = {line.split()[2]: line.split()[3:] for line in result.output.splitlines() if line[:2].isdigit()}
    assert "Company" in result.output
    # Ids are what users copy into other commands: never wrapped or cut. Rounds become a count.
    assert rows[other] == ["globex", "practice", "1", "—", "open"]
    assert rows[session_id][:3] == ["acme", "interview", "2"] and rows[session_id][-1] == "done"


def test_export_markdown_to_stdout_and_file(cli, tmp_path):
    session_id = _session({OVERFITTING.id: {"gap"}, L1L2.id: "skip"})
    result = invoke(cli, "export", session_id, "--format", "md")
    assert result.exit_code == 0
    assert result.output.startswith("# Acme mock interview: ML Engineer\n")
    assert "> **Candidate:** Training error is low" in result.output
    assert "- ✅ **Train/test gap**: “I said training error is low but test error is high.”" in result.output
    assert "## Report" in result.output
    target = tmp_path / "out" / "session.md"
    target.parent.mkdir()
    written = invoke(cli, "export", session_id[:15], "-o", str(target))
    assert written.exit_code == 0 and written.stdout == ""
    assert f"Wrote {target}" in written.stderr
    assert target.read_text() == result.output


def test_export_json_is_one_object(cli):
    session_id = _session({OVERFITTING.id: {"gap", "noise"}, L1L2.id: None})
    result = invoke(cli, "export", session_id, "--format", "json")
    data = json.loads(result.output)
    assert set(data) == {"session", "turns", "report", "coding"}
    assert data["coding"] == {"questions": [], "runs": []}  # no coding round in this session
    assert data["session"]["id"] == session_id
    answers = [t for t in data["turns"] if t["kind"] == "answer"]
    assert answers[0]["grade"]["grade"] == 3 and answers[0]["grade"]["label"] == "good"
    assert answers[1]["grade"] is None
    assert data["report"]["hire_bar"] == 3.0
    assert [q["status"] for r in data["report"]["rounds"] for q in r["questions"]] == [
        "graded", "ungraded", "graded"]


def test_export_unknown_session_is_a_one_line_error(cli):
    result = CliRunner().invoke(cli, ["export", "nope"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["Error: SESSION: no such session: 'nope'"]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_export_rejects_unknown_format(cli):
    session_id = _session({})
    result = CliRunner().invoke(cli, ["export", session_id, "--format", "pdf"])
    assert result.exit_code == 2 and "'pdf' is not one of 'md', 'json'" in result.stderr


def test_regrade_grades_stored_answers_then_regrades_all_keeping_earlier(cli):
    session_id = _session({OVERFITTING.id: None, L1L2.id: "skip", CTR.id: {"labels"}})
    with Store() as store:
        ungraded = store.ungraded_answers(session_id)
        graded = [t for t in store.answers(session_id) if t not in ungraded]
    assert [t.question_id for t in ungraded] == [OVERFITTING.id]

    result = invoke(cli, "regrade", session_id)
    assert result.exit_code == 0, result.output
    assert "Graded 1 answer(s) in 1 session(s) with fake-hashing." in result.output
    with Store() as store:
        grade = store.latest_grade(ungraded[0].id)
        assert grade.model_id == "fake-hashing" and grade.rubric_version == OVERFITTING.version
        assert store.ungraded_answers() == []

    assert "Nothing to regrade" in invoke(cli, "regrade").output

    result = invoke(cli, "regrade", "--all")
    assert "Graded 2 answer(s)" in result.output
    with Store() as store:
        assert len(store.grade_history(ungraded[0].id)) == 2
        history = store.grade_history(graded[0].id)
        assert [g.model_id for g in history] == ["fake-hashing", "fake-hashing"]
        assert history[0] == make_result(CTR, {"labels"})  # the hand-made grade is still there


def test_regrade_without_the_model_fails_cleanly_and_keeps_answers(cli, monkeypatch):
    session_id = _session({OVERFITTING.id: None})

    def unavailable():
        raise ModelUnavailableError("the model package is not installed")

    monkeypatch.setattr(session_cli, "make_encoder", unavailable)
    result = CliRunner().invoke(cli, ["regrade"])
    assert result.exit_code == 1
    assert "cannot grade: the model package is not installed" in result.stderr
    with Store() as store:
        assert len(store.ungraded_answers(session_id)) == 1


def test_regrade_unknown_session(cli):
    result = CliRunner().invoke(cli, ["regrade", "nope"])
    assert result.exit_code == 2 and "no such session: 'nope'" in result.stderr


def test_progress_charts_rounds_and_lists_missed_points(cli):
    _session({OVERFITTING.id: {"capacity"}, L1L2.id: {"sparsity"}, CTR.id: set()})
    _session({OVERFITTING.id: {"gap", "capacity"}, L1L2.id: {"sparsity", "shrink"}, CTR.id: {"labels"}})
    data = json.loads(invoke(cli, "progress", "--company", "acme", "--json").output)
    (acme,) = data
    assert acme["rounds"] == ["screen", "design"]
    assert [s["rounds"] for s in acme["sessions"]] == [
        {"screen": (1 + 2) / 2, "design": 0.0}, {"screen": (3 + 4) / 2, "design": 2.0}]
    missed = {(p["question_id"], p["point_id"]): p for p in acme["missed_points"]}
    assert missed[(OVERFITTING.id, "noise")]["missed"] == 2
    assert missed[(OVERFITTING.id, "gap")]["history"] == [False, True]
    assert (L1L2.id, "sparsity") not in missed
    assert acme["missed_points"][0]["missed"] == 2

    result = invoke(cli, "progress")
    assert result.exit_code == 0
    assert "acme: mean grade per round, as in each report (skips count 0)" in result.output
    assert "points most often missed" in result.output
    assert "✗✓" in result.output  # the gap point: missed, then covered
    assert "\x1b[" not in result.output  # no colour codes when not writing to a terminal


def test_progress_counts_finished_interviews_and_practice_only_on_request(cli):
    first = _session({OVERFITTING.id: {"capacity"}, L1L2.id: "skip", CTR.id: set()})
    _session({OVERFITTING.id: {"gap", "noise", "capacity"}}, finish=False)  # abandoned interview
    practice = _session({OVERFITTING.id: {"gap"}, L1L2.id: {"sparsity"}, CTR.id: {"labels"}}, mode="practice")
    (acme,) = json.loads(invoke(cli, "progress", "--json").output)
    assert [s["id"] for s in acme["sessions"]] == [first]
    # The report's round mean: the skipped question counts 0, as in review and export.
    assert acme["sessions"][0]["rounds"]["screen"] == pytest.approx((1 + 0) / 2)
    with_practice = json.loads(invoke(cli, "progress", "--practice", "--json").output)[0]
    assert [s["id"] for s in with_practice["sessions"]] == [first, practice]
    # One session: no chart with every round drawn at the same spot, a per-round list instead.
    result = invoke(cli, "progress")
    assert "one session so far" in result.output and "the trend chart starts at two" in result.output
    assert "screen: 0.5 / 4" in result.output
    assert "mean grade per round" not in result.output


def test_progress_without_graded_answers(cli):
    result = invoke(cli, "progress", "--company", "acme")
    assert result.exit_code == 0 and "No finished interviews with graded answers yet for acme" in result.output


def test_regrade_names_answers_whose_question_left_the_pack(cli):
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        turn_id = store.add_turn(session_id, role="candidate", kind="answer", text="Old answer.",
                                 question_id="acme.screen.gone", round_id="screen")
    result = invoke(cli, "regrade")
    assert result.exit_code == 0
    assert "No answer could be graded." in result.stdout
    assert f"Skipped turn {turn_id} (acme.screen.gone): question no longer in the pack" in result.stderr


# -- damaged rows, hostile answers and backups (issue 13) ------------------------------------------


def _damage_one_grade(session_id):
    with Store() as store:
        turn = store.answers(session_id)[0]
        store.db.execute("UPDATE grades SET result_json = '{not json' WHERE turn_id = ?", [turn.id])
        store.db.conn.commit()
    return turn.id


def test_one_malformed_json_row_is_skipped_and_reported_by_history_and_export(cli):
    damaged_session = _session({OVERFITTING.id: {OVERFITTING.points[0].id}, L1L2.id: set(), CTR.id: set()})
    healthy_session = _session({OVERFITTING.id: set(), L1L2.id: set(), CTR.id: set()})
    turn_id = _damage_one_grade(damaged_session)
    result = CliRunner().invoke(cli, ["history", "--json"])
    assert result.exit_code == 0, result.output
    assert {row["id"] for row in json.loads(result.stdout)} == {damaged_session, healthy_session}
    assert "skipped a damaged row: grade" in result.stderr and f"turn {turn_id}" in result.stderr
    for fmt in ("md", "json"):
        exported = CliRunner().invoke(cli, ["export", damaged_session, "--format", fmt])
        assert exported.exit_code == 0, exported.output
        assert "skipped a damaged row" in exported.stderr


def test_markdown_export_strips_escapes_and_escapes_html_and_script_links(cli):
    hostile = ("Noise \x1b]0;pwned\x07memorised\x1b[2J. <script>alert(1)</script> "
               "[click](javascript:alert(1)) [ok](https://example.com/?a=1&b=2)")
    with Store() as store:
        session_id = store.create_session("acme", "interview", ["screen"])
        step = Interview(sample_pack(), mode="interview", max_probes=0).current
        store.add_turn(session_id, **step.prompt_turn())
        store.add_turn(session_id, **step.answer_turn(hostile))
    result = CliRunner().invoke(cli, ["export", session_id, "--format", "md"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "\x1b" not in text and "\x07" not in text
    assert "<script>" not in text and "&lt;script>" in text
    assert "javascript:" not in text
    assert "[ok](https://example.com/?a=1&amp;b=2)" in text


def test_backup_copies_every_session_and_never_overwrites(cli, tmp_path):
    session_id = _session({OVERFITTING.id: set(), L1L2.id: set(), CTR.id: set()})
    target = tmp_path / "copy.db"
    result = invoke(cli, "backup", str(target))
    assert result.exit_code == 0 and "1 session(s)" in result.output
    import sqlite3

    assert sqlite3.connect(target).execute("SELECT id FROM sessions").fetchall() == [(session_id,)]
    again = CliRunner().invoke(cli, ["backup", str(target)])
    assert again.exit_code == 2 and "already exists" in again.output
