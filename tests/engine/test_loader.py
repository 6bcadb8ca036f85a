from pathlib import Path

import pytest

from grader.engine.loader import RubricError, UnknownNameError, find_question, load_all, load_company, load_pack
from grader.engine.schema import SCHEMAS, schema_text
from tests.conftest import REPO

QUESTION = """\
id: acme.screen.basics
prompt: What is a model?
time_budget_seconds: 60
points:
  - id: definition
    title: Definition
    weight: 2
    references:
      - A model maps inputs to outputs.
      - A function learned from data.
    probe: What does a model do?
    feedback: Say what a model is.
model_answer: A model is a function learned from data.
examples:
  - answer: A function learned from data.
    grade: 4
    covers: [definition]
"""

PACK = """\
company: acme
display_name: Acme
role: ML Engineer
rounds:
  - id: screen
    title: Screen
    kind: rapid-fire
    time_budget_minutes: 10
    questions: [acme.screen.basics]
"""


def write_pack(root: Path, question: str = QUESTION, pack: str = PACK) -> Path:
    (root / "questions").mkdir(parents=True)
    (root / "pack.yaml").write_text(pack)
    question_id = question.split("\n", 1)[0].removeprefix("id: ")
    (root / "questions" / f"{question_id}.yaml").write_text(question)
    return root


def test_valid_pack_loads(tmp_path):
    loaded = load_pack(write_pack(tmp_path / "acme"))
    assert loaded.company == "acme"
    assert [q.id for q in loaded.ordered_questions()] == ["acme.screen.basics"]


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    root = write_pack(tmp_path / "acme", question=QUESTION.replace("weight: 2", "weight: [2"))
    with pytest.raises(RubricError) as err:
        load_pack(root)
    message = str(err.value)
    assert "acme.screen.basics.yaml:" in message and "YAML syntax error" in message
    assert err.value.line is not None


def test_unknown_field_names_field_path_and_line(tmp_path):
    root = write_pack(tmp_path / "acme", question=QUESTION.replace("    weight: 2", "    weigth: 2"))
    with pytest.raises(RubricError) as err:
        load_pack(root)
    assert err.value.field_path.startswith("points.0.")
    assert err.value.line == 7
    assert "acme.screen.basics.yaml:7" in str(err.value)


def test_bad_value_is_located(tmp_path):
    root = write_pack(tmp_path / "acme", question=QUESTION.replace("weight: 2", "weight: -1"))
    with pytest.raises(RubricError) as err:
        load_pack(root)
    assert err.value.field_path == "points.0.weight"
    assert err.value.line == 7


def test_example_covering_unknown_point_is_rejected(tmp_path):
    root = write_pack(tmp_path / "acme", question=QUESTION.replace("covers: [definition]", "covers: [defn]"))
    with pytest.raises(RubricError, match="unknown point"):
        load_pack(root)


def _with_misconceptions(*ids: str) -> str:
    block = "    misconceptions:\n" + "".join(
        f"      - id: {mid}\n        claim: Wrong.\n        phrasings: [Wrong.]\n        correction: Right.\n"
        for mid in ids
    )
    return QUESTION.replace("    probe:", block + "    probe:")


def test_misconception_ids_are_unique_and_not_the_graders_own(tmp_path):
    load_pack(write_pack(tmp_path / "ok" / "acme", question=_with_misconceptions("one", "two")))
    with pytest.raises(RubricError, match="duplicate misconception ids: same"):
        load_pack(write_pack(tmp_path / "twice" / "acme", question=_with_misconceptions("same", "same")))
    with pytest.raises(RubricError, match="starts with 'contradicts-'"):
        load_pack(write_pack(tmp_path / "reserved" / "acme", question=_with_misconceptions("contradicts-definition")))


def _with_second_grade(second: int) -> str:
    return QUESTION.replace("    grade: 4\n", f"    grade: 4\n    second_grade: {second}\n")


def test_second_grade_must_be_one_away_from_the_grade(tmp_path):
    root = write_pack(tmp_path / "acme", question=_with_second_grade(2))
    with pytest.raises(RubricError, match="second_grade must be one away from grade") as err:
        load_pack(root)
    assert err.value.field_path == "examples.0"

    root = write_pack(tmp_path / "2" / "acme", question=_with_second_grade(3))
    example = next(iter(load_pack(root).questions.values())).examples[0]
    assert example.accepted_grades == (3, 4)


def test_round_naming_missing_question_suggests_close_match(tmp_path):
    root = write_pack(tmp_path / "acme", pack=PACK.replace("acme.screen.basics", "acme.screen.basic"))
    with pytest.raises(RubricError, match=r"did you mean acme\.screen\.basics"):
        load_pack(root)


def test_unknown_company_lists_packs(tmp_path):
    write_pack(tmp_path / "acme")
    with pytest.raises(UnknownNameError, match="packs: acme"):
        load_company("acme-corp", tmp_path)


def test_unknown_question_suggests(tmp_path):
    write_pack(tmp_path / "acme")
    with pytest.raises(UnknownNameError, match="did you mean"):
        find_question("acme.screen.basic", load_all(tmp_path))


def test_pinterest_pack_has_the_seed_questions():
    loaded = load_company("pinterest")
    seeds = {
        "pinterest.screen.overfitting", "pinterest.screen.prevent-overfitting", "pinterest.screen.l1-vs-l2",
        "pinterest.design.ctr-system", "pinterest.design.embeddings", "pinterest.design.training-data",
        "pinterest.design.evaluation",
    }
    assert seeds <= set(loaded.questions)
    kinds = {r.kind for r in loaded.pack.rounds}
    assert kinds == {"rapid-fire", "design", "coding"}
    assert loaded.pack.default_round_ids == ["technical-screen", "ml-design"], "coding is asked only when chosen"
    screen = [q for q in loaded.questions if ".screen." in q]
    design = [q for q in loaded.questions if ".design." in q]
    assert len(screen) >= 8 and len(design) >= 6


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_is_current(name):
    committed = (REPO / "rubrics" / "schema" / name).read_text()
    assert committed == schema_text(SCHEMAS[name]), "stale schema: run `mockint rubric schema`"
