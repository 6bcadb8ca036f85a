"""Load rubric packs from ``rubrics/<company>/`` and report authoring errors precisely.

A pack folder holds ``pack.yaml`` (company, role, rounds) and ``questions/*.yaml`` (one question
per file), plus ``calibration.json`` written by ``mockint calibrate``. Every error names the file,
the field path and, where YAML knows it, the line, because contributors fix rubrics by hand.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from grader.engine.rubric import Pack, Question

PACK_FILE = "pack.yaml"
QUESTIONS_DIR = "questions"
CALIBRATION_FILE = "calibration.json"


class RubricError(Exception):
    """A rubric file that cannot be used, located as precisely as the parser allows."""

    def __init__(self, path: Path | str, message: str, *, field_path: str = "", line: int | None = None):
        self.path = Path(path)
        self.field_path = field_path
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path) + (f":{self.line}" if self.line else "")
        what = f"{self.field_path}: " if self.field_path else ""
        return f"{where}: {what}{self.message}"


class UnknownNameError(LookupError):
    """An unknown company or question id; the message lists close matches."""


@dataclass
class LoadedPack:
    pack: Pack
    questions: dict[str, Question]
    root: Path
    question_files: dict[str, Path] = field(default_factory=dict)

    @property
    def company(self) -> str:
        return self.pack.company

    @property
    def calibration_path(self) -> Path:
        return self.root / CALIBRATION_FILE

    def ordered_questions(self) -> list[Question]:
        return [self.questions[qid] for round_ in self.pack.rounds for qid in round_.questions]


def default_rubrics_dir() -> Path:
    """The rubrics folder: ``$MOCKINT_RUBRICS`` when set, else the repository's ``rubrics/``."""
    override = os.environ.get("MOCKINT_RUBRICS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "rubrics"


def _line_for(node: yaml.Node | None, parts: Iterable[str | int]) -> int | None:
    """Walk a composed YAML node tree along a pydantic error location; return a 1-based line."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == str(part)), None)
            if match is None:
                # The key itself is missing or extra: point at the mapping or the offending key.
                key_node = next((key for key, _ in node.value if key.value == str(part)), None)
                return (key_node.start_mark.line + 1) if key_node else best
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return best
        best = node.start_mark.line + 1
    return best


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RubricError(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise RubricError(path, f"cannot read file: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise RubricError(path, f"YAML syntax error: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise RubricError(path, f"YAML syntax error: {exc}") from None
    return data, node


def _validate(model: type[BaseModel], path: Path) -> Any:
    data, node = _read_yaml(path)
    if not isinstance(data, dict):
        raise RubricError(path, "expected a mapping of fields at the top level", line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # An unknown key is usually a typo of a required one: report it first, at its own line.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        error = errors[0]
        loc = [part for part in error["loc"] if part != "__root__"]
        field_path = ".".join(str(part) for part in loc) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise RubricError(path, message + extra, field_path=field_path, line=_line_for(node, loc)) from None


def load_question(path: Path) -> Question:
    return _validate(Question, path)


def load_pack(root: Path) -> LoadedPack:
    """Load one pack folder, checking that every round names questions that exist."""
    pack_file = root / PACK_FILE
    if not pack_file.is_file():
        raise RubricError(pack_file, "pack file not found")
    pack: Pack = _validate(Pack, pack_file)
    questions: dict[str, Question] = {}
    files: dict[str, Path] = {}
    for path in sorted((root / QUESTIONS_DIR).glob("*.y*ml")):
        question = load_question(path)
        if question.id in questions:
            raise RubricError(path, f"duplicate question id {question.id!r} (also in {files[question.id]})",
                              field_path="id")
        questions[question.id] = question
        files[question.id] = path
    _, node = _read_yaml(pack_file)
    for r_index, round_ in enumerate(pack.rounds):
        for q_index, qid in enumerate(round_.questions):
            if qid not in questions:
                loc: list[str | int] = ["rounds", r_index, "questions", q_index]
                raise RubricError(
                    pack_file,
                    f"unknown question id {qid!r}{_suggest(qid, questions)}",
                    field_path=".".join(str(p) for p in loc),
                    line=_line_for(node, loc),
                )
    return LoadedPack(pack=pack, questions=questions, root=root, question_files=files)


def discover_packs(rubrics_dir: Path | None = None) -> dict[str, Path]:
    """Map company name to pack folder for every folder holding a pack file."""
    base = rubrics_dir or default_rubrics_dir()
    return {path.parent.name: path.parent for path in sorted(base.glob(f"*/{PACK_FILE}"))}


def load_company(company: str, rubrics_dir: Path | None = None) -> LoadedPack:
    packs = discover_packs(rubrics_dir)
    if company not in packs:
        available = ", ".join(packs) or "none"
        raise UnknownNameError(f"unknown company {company!r}{_suggest(company, packs)}; packs: {available}")
    return load_pack(packs[company])


def load_all(rubrics_dir: Path | None = None) -> list[LoadedPack]:
    return [load_pack(root) for root in discover_packs(rubrics_dir).values()]


def find_question(question_id: str, packs: list[LoadedPack]) -> tuple[LoadedPack, Question]:
    for loaded in packs:
        if question_id in loaded.questions:
            return loaded, loaded.questions[question_id]
    all_ids = [qid for loaded in packs for qid in loaded.questions]
    raise UnknownNameError(f"unknown question id {question_id!r}{_suggest(question_id, all_ids)}")


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""
