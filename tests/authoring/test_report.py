"""Interview reports of three shapes read into rounds, prompts and topics."""

from pathlib import Path

from grader.authoring.report import finish_pool, parse_report, split_question_text

REPORTS = Path(__file__).parent / "reports"


def seed_text() -> str:
    # The seed lives outside the repository; a copy is kept beside the other test reports.
    return (REPORTS / "pinterest-mle-interview-report.txt").read_text(encoding="utf-8")


def test_the_seed_report_gives_its_two_rounds_prompts_and_topics():
    report = parse_report(seed_text())
    assert (report.display_name, report.role, report.level) == ("Pinterest", "Machine Learning Engineer", "Mid-Level")
    assert [(r.title, r.kind) for r in report.rounds] == [("Technical Screen", "rapid-fire"),
                                                         ("ML Practitioner", "design")]
    screen, design = report.rounds
    assert [q.prompt for q in screen.questions] == [
        "What is overfitting?", "How do you prevent it?",
        "What are the differences between L1 and L2 regularization?"]
    assert [[t.name for t in q.topics] for q in screen.questions] == [
        ["Overfitting"], ["Overfitting Prevention"], ["L1 vs. L2 Regularization"]]
    [ctr] = design.questions
    assert ctr.prompt.startswith("Design a system to improve the click-through rate (CTR) of ads")
    assert [t.name for t in ctr.topics] == ["Embedding Creation", "Training Data"]
    assert "PinSage and PinnerSage" in ctr.topics[0].detail
    assert any("user history logs" in note for note in ctr.notes)
    assert report.coding == ["LeetCode similar: LeetCode 347"]
    assert "- Research papers on PinSage and PinnerSage." in report.unplaced


def test_a_glassdoor_review_files_its_question_list_into_rounds_by_kind():
    report = parse_report((REPORTS / "glassdoor-meta-mle.txt").read_text())
    finish_pool(report)
    assert report.role == "Machine Learning Engineer"
    assert [(r.title, r.kind, [q.prompt for q in r.questions]) for r in report.rounds] == [
        ("ML fundamentals", "rapid-fire", [
            "Explain the bias-variance tradeoff and how it shows up in deep networks.",
            "How would you handle extreme class imbalance in ad click prediction?"]),
        ("ML system design", "design", ["Design a news feed ranking system for a social network."]),
        ("Behavioral", "behavioral",
         ["Tell me about a time you disagreed with a teammate about a technical decision."]),
    ]
    assert "Anonymous Interview Candidate in Menlo Park, CA" in report.unplaced
    assert any("LeetCode medium on intervals" in line for line in report.coding)


def test_plain_notes_give_rounds_with_durations_bulleted_questions_and_inline_topics():
    report = parse_report((REPORTS / "notes-acme-ml-onsite.txt").read_text())
    assert [(r.title, r.kind, r.minutes) for r in report.rounds] == [
        ("Phone screen", "rapid-fire", 45), ("ML design", "design", 60), ("behavioral", "behavioral", 30)]
    assert [q.prompt for q in report.rounds[0].questions] == [
        "what's the difference between bagging and boosting?",
        "explain precision vs recall, when would you prefer each"]
    [search] = report.rounds[1].questions
    assert [t.name for t in search.topics] == [
        "query understanding", "candidate retrieval", "learning to rank", "online metrics"]
    assert search.notes == ["they pushed hard on position bias in the click logs"]
    assert report.coding == ["coding: two sum variant with a sorted array"]
    assert report.unplaced == ["acme ML onsite - my notes",
                               "overall the interviewers were friendly, heard back in a week"]


def test_a_question_line_splits_into_preamble_prompts_and_notes():
    assert split_question_text("Basics: What is X? How do you Y?") == ("Basics", ["What is X?", "How do you Y?"], [])
    assert split_question_text("Design a feed. They asked about data.") == (
        "", ["Design a feed."], ["They asked about data."])


def test_topics_are_matched_by_words_when_they_do_not_pair_with_questions():
    text = """Round 1: Screen
Question: What is dropout? What is batch normalization? What is a learning rate schedule?
Topics covered:
- Batch normalization: internal covariate shift
- Dropout
"""
    [round_] = parse_report(text).rounds
    assert [[t.name for t in q.topics] for q in round_.questions] == [["Dropout"], ["Batch normalization"], []]
