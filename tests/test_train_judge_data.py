"""The judge's training data helpers in scripts/train_judge.py (no training is run)."""

import random
from pathlib import Path
from types import ModuleType

from tests.conftest import REPO, train_judge_script


def test_definition_openers_name_the_topic_and_keep_every_label():
    train_judge = train_judge_script()
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


def test_snli_pairs_read_premise_as_candidate_and_drop_unlabelled_rows(tmp_path, monkeypatch):
    import json

    train_judge = train_judge_script()
    rows = [
        {"gold_label": "entailment", "sentence1": "A man plays guitar.", "sentence2": "A man plays music."},
        {"gold_label": "contradiction", "sentence1": "A dog sleeps.", "sentence2": "A dog runs."},
        {"gold_label": "neutral", "sentence1": "A girl reads.", "sentence2": "A girl reads a novel."},
        {"gold_label": "-", "sentence1": "No agreement.", "sentence2": "Annotators split."},
    ]
    data = tmp_path / "snli.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    monkeypatch.setattr(train_judge, "snli_file", lambda: data)
    pairs = train_judge.snli_pairs(10, random.Random(0))
    assert sorted(pairs) == sorted([
        ("A man plays guitar.", "A man plays music.", "entail"),
        ("A dog sleeps.", "A dog runs.", "contradict"),
        ("A girl reads.", "A girl reads a novel.", "neutral"),
    ])
    assert len(train_judge.snli_pairs(2, random.Random(0))) == 2


def _tiny_snli_archive(path, member: str, payload: bytes) -> None:
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))


def test_snli_file_downloads_once_checks_digests_and_never_trusts_a_bad_file(tmp_path, monkeypatch):
    import hashlib

    import pytest

    train_judge = train_judge_script()
    payload = b'{"gold_label": "neutral", "sentence1": "A.", "sentence2": "B."}\n'
    source = tmp_path / "source.tar.gz"
    _tiny_snli_archive(source, train_judge.SNLI_MEMBER, payload)
    downloads = []

    def fake_download(url, destination):
        downloads.append(url)
        destination.write_bytes(source.read_bytes())

    monkeypatch.setattr("urllib.request.urlretrieve", fake_download)
    monkeypatch.setattr(train_judge, "SNLI_CACHE", tmp_path / "cache")
    monkeypatch.setattr(train_judge, "SNLI_ARCHIVE_SHA256", hashlib.sha256(source.read_bytes()).hexdigest())
    monkeypatch.setattr(train_judge, "SNLI_SHA256", hashlib.sha256(payload).hexdigest())

    target = train_judge.snli_file()
    assert target.read_bytes() == payload
    target.write_bytes(b"truncated")  # an interrupted or tampered copy is extracted again
    assert train_judge.snli_file().read_bytes() == payload
    assert len(downloads) == 1  # the checked archive in the cache is reused

    monkeypatch.setattr(train_judge, "SNLI_SHA256", "0" * 64)
    with pytest.raises(SystemExit, match="expected SHA-256"):
        train_judge.snli_file()
    assert not list((tmp_path / "cache").glob("*.part"))


def test_topic_pairs_pair_rubric_and_written_rows_and_skip_unknown_points(tmp_path, monkeypatch, capsys):
    import json

    train_judge = train_judge_script()
    rubric = [{
        "question": "topics.example",
        "prompt": "Why clip gradients?",
        "points": [
            {"id": "clip", "title": "Clipping", "references": ["Clip the norm.", "Rescale big gradients.", "Cap it."],
             "misconceptions": [{"id": "m", "phrasings": ["Clipping fixes vanishing gradients."]}]},
            {"id": "cause", "title": "Cause", "references": ["Products of Jacobians grow.", "Depth multiplies."]},
        ],
    }]
    topics = tmp_path / "topics"
    topics.mkdir()
    (topics / "rubrics-a.json").write_text(json.dumps(rubric), encoding="utf-8")
    rows = [
        {"question": "topics.example", "point": "clip", "text": "cap the grad norm", "label": "entail",
         "kind": "terse"},
        {"question": "topics.example", "point": "clip", "text": "Clipping shrinks small ones.", "label": "contradict",
         "kind": "opposite"},
        {"question": "topics.example", "point": "nowhere", "text": "orphan", "label": "entail", "kind": "terse"},
    ]
    (topics / "contrast-a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setattr(train_judge, "TOPICS_DIR", topics)
    pairs = train_judge.topic_pairs(random.Random(0))
    clip_refs = {"Clip the norm.", "Rescale big gradients.", "Cap it."}
    written = [p for p in pairs if p[0] == "cap the grad norm"]
    assert len(written) == 2 and all(p[1] in clip_refs and p[2] == "entail" for p in written)
    opposite = [p for p in pairs if p[0] == "Clipping shrinks small ones."]
    assert opposite and all(p[1] in clip_refs and p[2] == "contradict" for p in opposite)
    misconception = [p for p in pairs if p[0] == "Clipping fixes vanishing gradients."]
    assert misconception and all(p[1] in clip_refs and p[2] == "contradict" for p in misconception)
    # Another point's reference beside this point's is neutral; one point's references entail each other.
    assert any(p[2] == "neutral" and p[0] in {"Products of Jacobians grow.", "Depth multiplies."} and p[1] in clip_refs
               for p in pairs)
    assert ("Depth multiplies.", "Products of Jacobians grow.", "entail") in pairs
    assert not [p for p in pairs if p[0] == "orphan"]
    assert "skipped (unknown point or label)" in capsys.readouterr().err


def test_committed_topic_rows_name_one_point_of_one_topic_rubric():
    import json

    topics = REPO / "data" / "judge" / "topics"
    points: dict[str, set[str]] = {}
    for path in sorted(topics.glob("rubrics-*.json")):
        for question in json.loads(path.read_text(encoding="utf-8")):
            qid = question["question"]
            # Pack ids start with their company; a topic sharing one would pair with a pack's point.
            assert qid.startswith("topics.") and qid not in points, f"{path.name}: {qid}"
            ids = [point["id"] for point in question["points"]]
            assert len(ids) == len(set(ids)), f"{path.name}: {qid} repeats a point id"
            assert all(len(point["references"]) >= 2 for point in question["points"]), qid
            points[qid] = set(ids)
    assert points, "no training-only topic rubrics"
    for path in sorted(topics.glob("contrast-*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            row = json.loads(line)
            assert row["point"] in points.get(row["question"], ()), f"{path.name}:{number}"
            assert row["label"] in {"entail", "contradict", "neutral"}, f"{path.name}:{number}"


def test_voiced_swaps_keep_the_meaning_beside_a_share_of_swapped_contradictions():
    train_judge = train_judge_script()
    pairs = [("L1 drives some weights exactly to zero because the penalty has a corner.", f"ref {i}", "entail")
             for i in range(200)]
    pairs += [("Dropout averages an ensemble.", "ref", "entail"),  # names no sibling term: no pair
              ("L2 makes weights exactly zero.", "ref", "contradict")]  # not entailing: no pair
    out = train_judge.voiced_swapped_pairs(pairs, 0.5, random.Random(0))
    reworded = [text for text, _, label in out if label == "entail"]
    swapped = [text for text, _, label in out if label == "contradict"]
    assert len(reworded) == 200 and 60 < len(swapped) < 140
    for text in reworded:
        # Lowercase, no closing full stop, the sibling term kept: a changed surface, the same claim.
        assert text == text.lower() and not text.endswith(".") and text.startswith("l1 ")
        assert "zero" in text and "l2" not in text
    assert any("bc" in text.split() for text in reworded)  # chat abbreviations appear
    assert all(text.startswith("L2 drives some weights") for text in swapped)
    unswapped = train_judge.voiced_swapped_pairs(pairs, 0.0, random.Random(0))
    assert len(unswapped) == 200 and {label for _, _, label in unswapped} == {"entail"}


def test_voice_balance_rewords_each_label_to_the_same_terse_share_and_keeps_labels():
    train_judge = train_judge_script()
    pairs = [(f"Overfitting is memorising noise, case {i}.", "ref", "entail") for i in range(60)]
    pairs += [(f"overfitting = memorising noise, case {i}", "ref", "entail") for i in range(40)]
    pairs += [(f"Overfitting is a high-bias problem, case {i}.", "ref", "contradict") for i in range(100)]
    pairs += [(f"Dropout is a regulariser, case {i}.", "ref", "neutral") for i in range(50)]
    out = train_judge.voice_balanced_pairs(pairs, 0.4, random.Random(0))
    shares = train_judge.terse_shares(pairs + out)
    # Entailments were already 40% terse: none added. The others are brought up to the same share.
    assert {label for _, _, label in out} == {"contradict", "neutral"}
    assert all(abs(share - 0.4) < 0.01 for share in shares.values()), shares
    for text, _, label in out:
        assert text == text.lower() and not text.endswith(".")
        if label == "contradict":
            assert "high-bias" in text  # the wrong claim survives the rewording
    lower = train_judge.voice_balanced_pairs(pairs, 0.2, random.Random(0))
    # A label already over the target keeps its share; none is reworded down.
    shares = train_judge.terse_shares(pairs + lower)
    assert shares["entail"] == 0.4 and all(abs(shares[label] - 0.2) < 0.01 for label in ("contradict", "neutral"))


def _rows(directory: Path, pattern: str) -> list[dict[str, str]]:
    """The rows of the JSON-lines files in ``directory`` matching ``pattern``, read here rather than by
    the script's own reader, so that a reader that drops rows would be seen."""
    import json

    return [json.loads(line) for path in sorted(directory.glob(pattern))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _voiced_rows(train_judge: ModuleType, pattern: str) -> list[dict[str, str]]:
    """The rows of data/judge/voiced-wrong/ files matching ``pattern``."""
    return _rows(train_judge.VOICED_WRONG_DIR, pattern)


def test_voiced_wrong_rows_give_every_point_both_labels_in_the_same_voices_and_hold_out_two_questions():
    from collections import Counter

    train_judge = train_judge_script()
    _, pack_references = train_judge.rubric_pairs(random.Random(0))
    train, held_out, kinds = train_judge.voiced_pairs(pack_references, random.Random(0), "wrong-*.jsonl")
    references = {**train_judge.topic_references(), **pack_references}
    rows = _voiced_rows(train_judge, "wrong-*.jsonl")
    # Every point of the Meta and Airbnb packs and of the topics, each with its seven voices.
    assert {(row["question"], row["point"]) for row in rows} == set(references)
    per_point = Counter((row["question"], row["point"]) for row in rows)
    assert set(per_point.values()) == {7}
    for row in rows:
        wrong = row["kind"].startswith("wrong-")
        assert row["label"] == ("contradict" if wrong else "entail"), row
    # Both labels in the terse and non-native voices, so the voice never tells the label.
    labels_by_voice = {voice: {row["label"] for row in rows if row["kind"].endswith(voice)}
                       for voice in ("-terse", "-non-native")}
    assert labels_by_voice == {"-terse": {"contradict", "entail"}, "-non-native": {"contradict", "entail"}}
    # Each text beside two of its own point's references; the held-out questions only held out.
    reference_owner = {ref: key for key, refs in references.items() for ref in refs}
    text_owner = {row["text"]: (row["question"], row["point"]) for row in rows}
    assert all(reference_owner[ref] == text_owner[text] for text, ref, _ in train + held_out)
    assert len(train) + len(held_out) == 2 * len(rows)
    assert {text_owner[text][0] for text, _, _ in held_out} == set(train_judge.HELD_OUT_QUESTIONS)
    assert not {text_owner[text][0] for text, _, _ in train} & set(train_judge.HELD_OUT_QUESTIONS)
    assert len(kinds) == len(held_out) and set(kinds) <= {row["kind"] for row in rows}


def test_voiced_right_rows_give_every_voice_one_correct_and_one_wrong_claim_per_point():
    from collections import Counter

    train_judge = train_judge_script()
    _, pack_references = train_judge.rubric_pairs(random.Random(0))
    train, held_out, kinds = train_judge.voiced_pairs(pack_references, random.Random(0), "right-*.jsonl")
    references = {**train_judge.topic_references(), **pack_references}
    right, wrong = _voiced_rows(train_judge, "right-*.jsonl"), _voiced_rows(train_judge, "wrong-*.jsonl")
    assert {row["label"] for row in right} == {"entail"}
    assert {(row["question"], row["point"]) for row in right} == set(references)
    # With the wrong-*.jsonl rows, each point has one correct and one wrong claim in every voice.
    voices = Counter((row["question"], row["point"], row["kind"].split("-", 1)[1], row["label"])
                     for row in right + wrong)
    assert set(voices.values()) == {1}
    assert len(voices) == len(references) * 5 * 2
    # Paired as the wrong claims are: two of the point's own references, held-out questions held out.
    reference_owner = {ref: key for key, refs in references.items() for ref in refs}
    text_owner = {row["text"]: (row["question"], row["point"]) for row in right}
    assert all(reference_owner[ref] == text_owner[text] for text, ref, _ in train + held_out)
    assert {text_owner[text][0] for text, _, _ in held_out} == set(train_judge.HELD_OUT_QUESTIONS)
    assert not {text_owner[text][0] for text, _, _ in train} & set(train_judge.HELD_OUT_QUESTIONS)
    assert len(kinds) == len(held_out) and set(kinds) == {"right-bullet", "right-hedging", "right-rambling"}


def test_identity_pairs_put_each_contradicting_text_once_beside_itself_as_an_entailment():
    train_judge = train_judge_script()
    pairs = [
        ("L2 drives weights exactly to zero.", "L1 drives some weights exactly to zero.", "contradict"),
        ("L2 drives weights exactly to zero.", "L1 produces sparse weights.", "contradict"),
        ("l1 zeroes some weights", "L1 drives some weights exactly to zero.", "entail"),
        ("dropout, batch norm", "L1 produces sparse weights.", "neutral"),
        ("Early stopping is a form of L1.", "L1 produces sparse weights.", "contradict"),
    ]
    assert train_judge.identity_pairs(pairs) == [
        ("L2 drives weights exactly to zero.", "L2 drives weights exactly to zero.", "entail"),
        ("Early stopping is a form of L1.", "Early stopping is a form of L1.", "entail"),
    ]


def test_restated_rows_pair_every_voiced_wrong_claim_with_a_reworded_restatement_of_itself():
    train_judge = train_judge_script()
    wrong = {row["text"]: row for row in _voiced_rows(train_judge, "wrong-*.jsonl")}
    restated = _voiced_rows(train_judge, "restated-*.jsonl")
    # Exactly the wrong claims, each once, with its own question, point and voice.
    assert sorted(row["text"] for row in restated) == sorted(t for t, row in wrong.items()
                                                               if row["label"] == "contradict")
    for row in restated:
        assert (row["question"], row["point"], row["kind"]) == tuple(wrong[row["text"]][k]
                                                                    for k in ("question", "point", "kind"))
        assert row["restated"].strip() and row["restated"].lower() != row["text"].lower()
    train, held_out, kinds = train_judge.restated_pairs()
    assert {label for _, _, label in train + held_out} == {"entail"}
    assert len(train) + len(held_out) == len(restated) and len(kinds) == len(held_out) > 0
    owner = {row["text"]: row["question"] for row in restated}
    assert {owner[text] for text, _, _ in held_out} == set(train_judge.HELD_OUT_QUESTIONS)
    assert not {owner[text] for text, _, _ in train} & set(train_judge.HELD_OUT_QUESTIONS)


def test_elsewhere_pairs_put_each_voiced_text_beside_another_training_questions_reference_as_neutral():
    train_judge = train_judge_script()
    _, pack_references = train_judge.rubric_pairs(random.Random(0))
    references = {**train_judge.topic_references(), **pack_references}
    reference_question = {ref: question for (question, _), refs in references.items() for ref in refs}
    rows = _voiced_rows(train_judge, "wrong-*.jsonl") + _voiced_rows(train_judge, "right-*.jsonl")
    text_question = {row["text"]: row["question"] for row in rows}
    train, held_out, kinds = train_judge.elsewhere_pairs(
        pack_references, random.Random(0), ("wrong-*.jsonl", "right-*.jsonl"))
    assert len(train) + len(held_out) == len(rows)
    assert {label for _, _, label in train + held_out} == {"neutral"}
    held = set(train_judge.HELD_OUT_QUESTIONS)
    for text, reference, _ in train + held_out:
        # Another question's reference, and never a held-out question's: those stay unseen.
        assert reference_question[reference] != text_question[text]
        assert reference_question[reference] not in held
    assert {text_question[text] for text, _, _ in held_out} == held
    assert not {text_question[text] for text, _, _ in train} & held
    assert sorted(set(kinds)) == ["elsewhere-right", "elsewhere-wrong"] and len(kinds) == len(held_out)
    # Only the files asked for.
    wrong_only, _, _ = train_judge.elsewhere_pairs(pack_references, random.Random(0), ("wrong-*.jsonl",))
    assert {text for text, _, _ in wrong_only} <= {row["text"] for row in _voiced_rows(train_judge, "wrong-*.jsonl")}


def test_restated_written_rows_pair_every_written_contradiction_with_a_restatement_of_itself():
    train_judge = train_judge_script()
    written = _rows(train_judge.CONTRAST_DIR, "contrast-*.jsonl") + _rows(train_judge.TOPICS_DIR, "contrast-*.jsonl")
    contradictions = {row["text"]: row for row in written if row["label"] == "contradict"}
    restated = _rows(train_judge.RESTATED_DIR, "restated-*.jsonl")
    # Exactly the written contradictions, each once, with its own question, point and kind.
    assert sorted(row["text"] for row in restated) == sorted(contradictions)
    for row in restated:
        source = contradictions[row["text"]]
        assert (row["question"], row["point"], row["kind"]) == (source["question"], source["point"], source["kind"])
        assert row["restated"].strip() and row["restated"].lower() != row["text"].lower()
    train, held_out, kinds = train_judge.restated_pairs(train_judge.RESTATED_DIR, "restated-written")
    assert {label for _, _, label in train + held_out} == {"entail"}
    assert len(train) + len(held_out) == len(restated) and kinds == ["restated-written"] * len(held_out)
    owner = {row["text"]: row["question"] for row in restated}
    assert {owner[text] for text, _, _ in held_out} == set(train_judge.HELD_OUT_QUESTIONS)
    assert not {owner[text] for text, _, _ in train} & set(train_judge.HELD_OUT_QUESTIONS)


def test_options_that_add_to_another_options_data_refuse_to_run_without_it(tmp_path):
    import subprocess
    import sys

    out = str(tmp_path / "judge.safetensors")
    for options, message in (
        (["--restated"], "--restated: only with --voiced-wrong"),
        (["--voiced-elsewhere"], "--voiced-elsewhere: only with --voiced-wrong"),
        (["--voiced-wrong", "--restated-written"], "--restated-written: only with --voiced-wrong and --topics"),
    ):
        done = subprocess.run([sys.executable, str(REPO / "scripts" / "train_judge.py"), *options, "--out", out],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr.strip().endswith(message) and "Traceback" not in done.stderr
