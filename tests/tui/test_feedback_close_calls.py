"""Practice feedback never states flatly what the grader is unsure of (PointResult.close_call)."""

from dataclasses import replace

from rich.console import Console

from grader.engine.result import CLOSE_CALL_BAND, PointResult
from grader.tui.widgets import feedback_renderable
from tests.interview.sample_pack import QUESTIONS, make_result


def _rendered(question, answer, result) -> str:
    console = Console(width=200, record=True)
    console.print(feedback_renderable(question, answer, result))
    return console.export_text()


def test_close_calls_are_the_uncertain_band_only():
    point = make_result(QUESTIONS[0], set()).points[0]
    low, high = CLOSE_CALL_BAND
    assert [replace(point, probability=p).close_call for p in (low - 0.01, low, high - 0.01, high)] == [
        False, True, True, False,
    ]


def test_a_point_nearly_made_is_shown_as_not_sure_and_a_credited_close_call_is_marked():
    question = QUESTIONS[0]
    first, second, *rest = question.points
    result = make_result(question, {first.id})
    near = "I think it kind of depends on the data."
    points: list[PointResult] = [
        replace(result.points[0], probability=0.55),  # credited, but a close call
        replace(result.points[1], probability=0.4, evidence=near),  # not credited, nearly made
        *result.points[2:],  # surely missed (0.1)
    ]
    text = _rendered(question, f"I said {first.references[0]}. {near}", replace(result, points=points))

    assert "(a close call: credited, but say it more plainly)" in text
    not_sure = text.split("Not sure")[1].split("Missed")[0]
    assert second.title in not_sure and f"“{near}” may say this" in not_sure
    missed = text.split("Missed")[1].split("Model answer")[0]
    assert second.title not in missed
    assert all(point.title in missed for point in rest)


def test_a_sure_verdict_is_stated_plainly():
    question = QUESTIONS[0]
    text = _rendered(question, "anything", make_result(question, {question.points[0].id}))
    assert "Not sure" not in text and "close call" not in text
    assert "Missed" in text
