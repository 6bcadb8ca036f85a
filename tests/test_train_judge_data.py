"""The judge's training data helpers in scripts/train_judge.py (no training is run)."""

import importlib.util
import random

from tests.conftest import REPO


def _train_judge():
    spec = importlib.util.spec_from_file_location("train_judge", REPO / "scripts" / "train_judge.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_definition_openers_name_the_topic_and_keep_every_label():
    train_judge = _train_judge()
    pairs = [(f"The model {verb} noise.", "ref", label)
             for verb, label in (("memorizes", "entail"), ("ignores", "contradict"), ("sees", "neutral"))] * 40
    pairs.append(("Use dropout.", "ref", "entail"))  # an imperative would not read as a definition
    topics = {text: train_judge.question_topic("meta.fundamentals.batchnorm-dropout") for text, _, _ in pairs}
    out = train_judge.with_definition_openers(pairs, topics, random.Random(0))
    assert [label for _, _, label in out] == [label for _, _, label in pairs]
    changed = [(before, after) for before, after in zip(pairs, out, strict=True) if before != after]
    assert {before[2] for before, _ in changed} == {"entail", "contradict", "neutral"}
    assert all(after[0].startswith("Batchnorm dropout ") and "the model" in after[0] for _, after in changed)
    assert out[-1] == pairs[-1]
