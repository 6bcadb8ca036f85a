"""`mockint rubric try`: how the judge read an answer, point by point; worked examples side by side."""

import pytest
from click.testing import CliRunner

from grader.cli import cli

ANSWER = (
    "Overfitting is when the model memorises the noise in its training data, so it scores well on training data "
    "but badly on new data. Overfitting is a high bias problem."
)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.mark.real_model
def test_try_shows_each_point_with_sentence_and_reference_and_each_misconception():
    result = run("rubric", "try", "pinterest.screen.overfitting", input=ANSWER)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "✓ covered  fits-noise" in out and "✗ missed  detection" in out
    assert "sentence:  “Overfitting is when the model memorises the noise" in out
    assert "reference: “" in out
    assert "! stated  overfitting-is-high-bias (on high-variance)" in out
    assert "sentence: “Overfitting is a high bias problem.”" in out
    assert "phrasing: “Overfitting is a high bias problem.”" in out
    assert "- not stated  overfitting-is-too-simple" in out


@pytest.mark.real_model
def test_try_examples_puts_expected_and_actual_side_by_side():
    result = CliRunner().invoke(cli, ["rubric", "try", "pinterest.screen.bias-variance", "--examples"],
                                env={"COLUMNS": "160"})
    assert "worked examples" in result.output and "expected" in result.output and "actual" in result.output
    assert "grade as written" in result.output
    assert result.exit_code in (0, 1)
    assert (result.exit_code == 1) == ("MISMATCH" in result.output)


def test_try_an_unknown_question_is_one_line():
    result = run("rubric", "try", "pinterest.screen.overfiting", input="x")
    assert result.exit_code == 2 and "did you mean pinterest.screen.overfitting" in result.output
    assert len(result.output.strip().splitlines()) == 1
