import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.engine.loader import load_all, load_company
from grader.evaluation.baselines import GradeMapper, KeywordOverlapBaseline, TfidfCosineBaseline, content_words
from grader.evaluation.cli import eval_command
from grader.evaluation.datasets import read_dataset, transcripts_dataset
from tests.conftest import REPO
from tests.evaluation.conftest import PARTIAL, QUESTION_ID, STRONG, WEAK


def run(project: Path, *args: str):
    return CliRunner().invoke(eval_command, [*args, "--transcripts", str(project / "transcripts")])


def write(path: Path, lines: list[str] | bytes) -> Path:
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(**fields) -> str:
    base = {"id": "a", "question_id": QUESTION_ID, "answer": STRONG, "grade": 4}
    base.update(fields)
    return json.dumps(base)


def test_default_evaluates_the_dev_split_beside_baselines(project):
    result = run(project, "--json", "--bootstrap", "50")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 8
    assert report["metrics"]["primary_metric"] == "qwk"
    assert set(report["systems"]) == {"mockint", "tfidf", "embedding", "keywords"}
    assert all(p["id"].startswith("dev-") for p in report["predictions"])
    assert {"id", "grade", "score"} <= set(report["predictions"][0])
    assert "ci95" in report["metrics"] and len(report["metrics"]["ci95"]["qwk"]) == 2
    assert f"{QUESTION_ID}#fits-noise" in report["per_point"]
    assert sum(map(sum, report["confusion_matrix"]["mockint"])) == 8


def test_dataset_file_is_graded_row_by_row(project, tmp_path):
    path = write(tmp_path / "d.jsonl", [row(id="s"), row(id="n", answer="I don't know", grade=0, category="empty")])
    result = run(project, "--dataset", str(path), "--json", "--no-baselines", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    grades = {p["id"]: p["grade"] for p in report["predictions"]}
    assert grades["n"] == 0
    assert grades["s"] >= 3
    assert set(report["per_category"]) == {"unspecified", "empty"}


def test_terminal_output_shows_mockint_beside_baselines(project):
    result = run(project, "--bootstrap", "20")
    assert result.exit_code == 0, result.output
    for word in ("QWK", "mockint", "tfidf", "keywords", "Per question", "Confusion"):
        assert word in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ([row(), "{not json"], ":2: invalid JSON"),
        (b"\xff\xfe\x00bad", "not valid UTF-8"),
        ([row(question_id="acme.screen.overfit")], ":1: unknown question id 'acme.screen.overfit' (did you mean"),
        ([row(grade=5)], ":1: field 'grade' must be an integer 0-4"),
        ([row(), row()], ":2: duplicate id"),
        ([row(misconceptions=["too-simpel"])], ":1: field 'misconceptions' names 'too-simpel', which acme."),
        ([row(misconceptions="too-simple")], ":1: field 'misconceptions' must be a list of ids"),
        ([row(covers=["fits-nosie"])], ":1: field 'covers' names 'fits-nosie'"),
    ],
)
def test_bad_input_is_one_line_exit_2(project, tmp_path, content, expected):
    path = write(tmp_path / "bad.jsonl", content)
    result = run(project, "--dataset", str(path))
    assert result.exit_code == 2
    assert expected in result.output
    assert str(path) in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_missing_file(project, tmp_path):
    result = run(project, "--dataset", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert result.output.strip() == f"mockint: {tmp_path / 'nope.jsonl'}: no such file"


def test_missing_calibration_is_one_line(project, tmp_path):
    (project / "rubrics" / "acme" / "calibration.json").unlink()
    result = run(project, "--no-baselines")
    assert result.exit_code == 2
    assert "no calibration for model 'fake-hashing'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_baselines_rank_and_map_monotonically(project):
    question = load_company("acme").questions[QUESTION_ID]
    items = [(question, STRONG), (question, PARTIAL), (question, WEAK)]
    for baseline in (TfidfCosineBaseline([question]), KeywordOverlapBaseline()):
        scores = baseline.score_many(items)
        assert scores[0] > scores[2] and scores[1] > scores[2]
    mapper = GradeMapper().fit([0.0, 0.2, 0.5, 0.9], [0, 1, 2, 4])
    assert list(mapper.predict([-1.0, 0.2, 2.0])) == [0, 1, 4]


def test_content_words_drop_stop_words_and_stem():
    assert content_words("The labels are clicked impressions") == {"label", "click", "impression"}


def test_dataset_rows_from_the_calibration_split_are_refused(tmp_path):
    import json as _json

    import pytest as _pytest

    from grader.evaluation.datasets import DatasetError, read_dataset

    path = tmp_path / "leaky.jsonl"
    row = {"id": "a", "question_id": "x.y.z", "answer": "text", "grade": 2, "split": "calibration"}
    path.write_text(_json.dumps(row) + "\n")
    with _pytest.raises(DatasetError, match="calibration split the grader was fitted on"):
        read_dataset(path, [])


MISCONCEPTION = "A linear model cannot fit curved shapes because it is too simple."


def test_misconception_naming_is_scored_against_the_human_marks(project, tmp_path):
    path = write(
        tmp_path / "m.jsonl",
        [
            row(id="caught", answer=MISCONCEPTION, grade=0, misconceptions=["too-simple"]),
            row(id="accused", answer=MISCONCEPTION, grade=0, misconceptions=[]),
            row(id="missed", answer=STRONG, grade=3, misconceptions=["too-simple"]),
        ],
    )
    report_path = tmp_path / "report.md"
    result = run(project, "--dataset", str(path), "--json", "--no-baselines", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    naming = json.loads(result.stdout)["misconception_naming"]
    assert (naming["named"], naming["support"]) == (2, 2)
    assert (naming["precision"], naming["recall"]) == (0.5, 0.5)
    assert [(f["id"], f["misconception"]) for f in naming["false_namings"]] == [("accused", "too-simple")]
    assert naming["false_namings"][0]["evidence"] == MISCONCEPTION

    result = run(project, "--dataset", str(path), "--no-baselines", "--bootstrap", "0", "--report", str(report_path))
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())  # the console wraps long lines
    assert "2 misconceptions named, 1 of them also marked by the human grader (precision 0.50)" in printed
    text = report_path.read_text(encoding="utf-8")
    assert "## Misconception naming" in text
    assert f"- accused: too-simple, on “{MISCONCEPTION}”" in text


def test_rows_that_do_not_say_are_not_counted_as_marking_none(project, tmp_path):
    path = write(
        tmp_path / "m.jsonl",
        [
            row(id="caught", answer=MISCONCEPTION, grade=0, misconceptions=["too-simple"]),
            json.dumps({"id": "silent", "question_id": QUESTION_ID, "answer": MISCONCEPTION, "grade": 0}),
            row(id="clean", answer=PARTIAL, grade=2, misconceptions=[]),
        ],
    )
    result = run(project, "--dataset", str(path), "--json", "--no-baselines", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    naming = json.loads(result.stdout)["misconception_naming"]
    assert (naming["named"], naming["support"], naming["n"]) == (1, 1, 2)
    assert naming["false_namings"] == []


def test_nothing_named_reads_as_zero_with_no_precision(project, tmp_path):
    path = write(tmp_path / "m.jsonl", [row(id="missed", answer=STRONG, grade=3, misconceptions=["too-simple"])])
    result = run(project, "--dataset", str(path), "--no-baselines", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())
    assert "0 misconceptions named, 0 of them also marked by the human grader (precision –)" in printed
    assert "0 of the 1 the human marked were named (recall 0.00)" in printed


def test_misconception_naming_is_left_out_when_no_row_marks_one(project, tmp_path):
    path = write(tmp_path / "d.jsonl", [row(id="s"), row(id="m", answer=MISCONCEPTION, grade=0)])
    result = run(project, "--dataset", str(path), "--json", "--no-baselines", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["misconception_naming"] is None


def test_the_projects_transcripts_and_probes_name_only_ids_their_questions_have():
    packs = load_all()
    transcripts = transcripts_dataset(packs, split=None)  # raises DatasetError naming file:line otherwise
    assert transcripts.has_point_labels and transcripts.has_misconception_labels
    for probe in sorted((REPO / "transcripts" / "probes").glob("*.jsonl")):
        assert read_dataset(probe, packs).has_misconception_labels


def test_dataset_eval_sees_a_pack_from_mockint_packs_and_skips_a_broken_one(project, tmp_path, monkeypatch):
    # The acme pack moves out of the project rubrics into a MOCKINT_PACKS folder beside a broken pack.
    outside = tmp_path / "outside"
    (project / "rubrics").rename(outside)
    (project / "rubrics").mkdir()
    (outside / "broken" / "questions").mkdir(parents=True)
    (outside / "broken" / "pack.yaml").write_text("company: broken\ncolour: red\n")
    monkeypatch.setenv("MOCKINT_PACKS", str(outside))
    path = write(tmp_path / "d.jsonl", [row(id="s")])
    result = run(project, "--dataset", str(path), "--json", "--no-baselines", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 1
    assert "warning: pack skipped" in result.stderr and "broken" in result.stderr
