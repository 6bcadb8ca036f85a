"""Find rubric packs wherever they live, load them, and report authoring errors precisely.

A pack folder ``<company>/`` holds ``pack.yaml`` (company, role, rounds) and ``questions/*.yaml``
(one question per file, named ``<question id>.yaml``). Packs are found in the project's rubrics/,
in ``$MOCKINT_HOME/packs`` and in every folder listed in ``$MOCKINT_PACKS``, so a contributor can
write and use a pack without touching the repository. Every error names the file, the field path
and, where YAML knows it, the line, because contributors fix rubrics by hand.

Rubric files are data written by people, sometimes by strangers: a file is read only up to a size
cap, nesting deeper than any rubric needs is refused before it is composed (PyYAML composes
recursively), anchors and aliases are refused (a few lines of aliases expand to millions of
nodes), and a key written twice is an error rather than the last one silently winning.
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
RUBRICS_ENV = "MOCKINT_RUBRICS"
"""Replaces the project's rubrics/ folder (tests and benchmarks point it at sample packs)."""
PACKS_ENV = "MOCKINT_PACKS"
"""Extra folders of packs, separated by ``os.pathsep`` (":" on Linux and macOS, ";" on Windows)."""
MAX_RUBRIC_FILE_BYTES = 256_000
"""The largest pack or question file read. The largest authored question is under 20 KB; a file
many times that is a mistake, and grading it would encode every line of it."""
MAX_YAML_DEPTH = 16
"""Deepest nesting of mappings and lists accepted; a question file nests five levels."""


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
    origin: str = ""
    """Where the pack was found, in words ("project rubrics/", "MOCKINT_PACKS"...)."""

    @property
    def company(self) -> str:
        return self.pack.company

    @property
    def calibration_path(self) -> Path:
        return self.root / CALIBRATION_FILE

    def ordered_questions(self) -> list[Question]:
        return [self.questions[qid] for round_ in self.pack.rounds for qid in round_.questions]

    def unlisted_questions(self) -> list[str]:
        """Question files no round lists: they can be graded and tried but are never asked."""
        listed = {qid for round_ in self.pack.rounds for qid in round_.questions}
        return [qid for qid in self.questions if qid not in listed]


def default_rubrics_dir() -> Path:
    """The rubrics folder: ``$MOCKINT_RUBRICS`` when set, else the repository's ``rubrics/``."""
    override = os.environ.get(RUBRICS_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "rubrics"


@dataclass(frozen=True)
class PackFolder:
    """A folder searched for packs, and how the user would name where it came from."""

    path: Path
    origin: str


def pack_search_path() -> list[PackFolder]:
    """The folders searched for packs, in order: project rubrics/, ``$MOCKINT_HOME/packs``, ``$MOCKINT_PACKS``."""
    from grader.paths import HOME_ENV, user_packs_dir

    folders = [PackFolder(default_rubrics_dir(), RUBRICS_ENV if os.environ.get(RUBRICS_ENV) else "project rubrics/")]
    folders.append(PackFolder(user_packs_dir(), f"${HOME_ENV}/packs" if os.environ.get(HOME_ENV) else "user packs"))
    for entry in os.environ.get(PACKS_ENV, "").split(os.pathsep):
        if entry.strip():
            folders.append(PackFolder(Path(entry.strip()).expanduser(), PACKS_ENV))
    unique: dict[Path, PackFolder] = {}
    for folder in folders:
        # The same folder reached twice (listed twice, or a symlink) holds no second copy of a pack.
        unique.setdefault(_resolved(folder.path), folder)
    return list(unique.values())


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


@dataclass(frozen=True)
class PackLocation:
    company: str
    root: Path
    origin: str


@dataclass
class PackCatalog:
    """Every pack found, by company id, and what stopped a pack from being found cleanly."""

    locations: dict[str, PackLocation] = field(default_factory=dict)
    duplicates: dict[str, RubricError] = field(default_factory=dict)
    """Company ids found in two places: each is an error for that company only."""
    missing_folders: list[PackFolder] = field(default_factory=list)
    """``$MOCKINT_PACKS`` entries that are not folders (a typo hides a pack; say so)."""

    def companies(self) -> list[str]:
        return sorted({*self.locations, *self.duplicates})

    def load(self, company: str) -> LoadedPack:
        if company in self.duplicates:
            raise self.duplicates[company]
        if company not in self.locations:
            known = self.companies()
            hint = "".join(f"; {PACKS_ENV} folder {f.path} does not exist" for f in self.missing_folders)
            raise UnknownNameError(
                f"unknown company {company!r}{_suggest(company, known)}; packs: {', '.join(known) or 'none'}{hint}"
            )
        location = self.locations[company]
        loaded = load_pack(location.root)
        loaded.origin = location.origin
        return loaded

    def load_available(self) -> tuple[list[LoadedPack], list[RubricError]]:
        """Every pack that loads, and one error per pack that does not: one broken pack spoils no other."""
        packs: list[LoadedPack] = []
        errors: list[RubricError] = list(self.duplicates.values())
        for company in sorted(self.locations):
            try:
                packs.append(self.load(company))
            except RubricError as exc:
                errors.append(exc)
        return packs, errors


def find_packs(rubrics_dir: Path | None = None) -> PackCatalog:
    """Find the packs in ``rubrics_dir`` alone, or else in every folder of the pack search path.

    A pack is a ``<company>/pack.yaml``; a listed folder that is itself a pack counts too, since
    pointing ``MOCKINT_PACKS`` at the one pack you are writing is the natural thing to do.
    """
    folders = [PackFolder(rubrics_dir, str(rubrics_dir))] if rubrics_dir is not None else pack_search_path()
    catalog = PackCatalog()
    for folder in folders:
        if not folder.path.is_dir():
            if folder.origin == PACKS_ENV:
                catalog.missing_folders.append(folder)
            continue
        roots = [folder.path] if (folder.path / PACK_FILE).is_file() else sorted(
            path.parent for path in folder.path.glob(f"*/{PACK_FILE}"))
        for root in roots:
            company = root.name
            if company in catalog.duplicates:
                continue
            if company in catalog.locations:
                first = catalog.locations.pop(company)
                catalog.duplicates[company] = RubricError(
                    root / PACK_FILE,
                    f"company id {company!r} is also used by {first.root / PACK_FILE} ({first.origin}); "
                    "rename one pack folder and its company field",
                    field_path="company",
                )
                continue
            catalog.locations[company] = PackLocation(company, root, folder.origin)
    return catalog


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


_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it: a pack's 17 files parse in about 0.05 s instead
of 0.4 s, time the candidate otherwise waits before the briefing appears. Same safe constructor."""


class _RubricYamlLoader(_SAFE_LOADER):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader, except that a mapping key written twice is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise _DuplicateKeyError(key_node.value, seen[key].start_mark.line + 1, key_node.start_mark)
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


class _DuplicateKeyError(Exception):
    def __init__(self, key: str, first_line: int, mark: yaml.Mark):
        self.key, self.first_line, self.mark = key, first_line, mark


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_RUBRIC_FILE_BYTES + 1)
    except OSError as exc:
        raise RubricError(path, f"cannot read file: {exc.strerror}") from None
    if len(raw) > MAX_RUBRIC_FILE_BYTES:
        raise RubricError(
            path, f"file is over {MAX_RUBRIC_FILE_BYTES // 1000} KB, the limit for one rubric file; "
            "split it, or cut references and examples that repeat each other")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RubricError(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def _check_shape(path: Path, text: str) -> None:
    """Refuse nesting deeper than MAX_YAML_DEPTH and aliases, scanning events (no recursion)."""
    too_deep = f"nested more than {MAX_YAML_DEPTH} levels deep; a rubric file needs about five"
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_SAFE_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise RubricError(path, too_deep, line=event.start_mark.line + 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise RubricError(path, "YAML anchors and aliases (&name, *name) are not supported in rubric "
                                  "files; write the text out", line=event.start_mark.line + 1)
    except yaml.MarkedYAMLError as exc:
        # libyaml looks ahead through a flow collection and stops at its own depth limit (1000)
        # before yielding the event that is too deep here.
        if "nesting depth" not in str(exc.problem):
            raise
        mark = exc.problem_mark or exc.context_mark
        raise RubricError(path, too_deep, line=mark.line + 1 if mark else None) from None


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    text = _read_text(path)
    try:
        _check_shape(path, text)
        loader = _RubricYamlLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _DuplicateKeyError as exc:
        raise RubricError(path, f"key {exc.key!r} is written twice (first at line {exc.first_line}); "
                          "keep one", line=exc.mark.line + 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise RubricError(path, f"YAML syntax error: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise RubricError(path, f"YAML syntax error: {exc}") from None
    except RecursionError:  # not reachable past _check_shape; kept so no input can end in a traceback
        raise RubricError(path, "nested too deeply to read") from None
    return data, node


def read_rubric_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """A rubric file's data and composed node tree (for line numbers), read with the checks above."""
    return _read_yaml(path)


def line_of(node: yaml.Node | None, parts: Iterable[str | int]) -> int | None:
    """The 1-based line of a field path (``["points", 0, "probe"]``) in a composed node tree."""
    return _line_for(node, parts)


def _validate(model: type[BaseModel], path: Path) -> tuple[Any, yaml.Node | None]:
    data, node = _read_yaml(path)
    if not isinstance(data, dict):
        raise RubricError(path, "expected a mapping of fields at the top level", line=1)
    try:
        return model.model_validate(data), node
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
    """One question file; its name must be its id, so a question is found by name in the folder."""
    question, node = _validate(Question, path)
    if path.stem != question.id:
        raise RubricError(path, f"id {question.id!r} differs from the file name; name the file {question.id}.yaml",
                          field_path="id", line=_line_for(node, ["id"]))
    return question


def load_pack(root: Path) -> LoadedPack:
    """Load one pack folder, checking that every round names questions that exist, each once."""
    pack_file = root / PACK_FILE
    if not pack_file.is_file():
        raise RubricError(pack_file, "pack file not found")
    pack, node = _validate(Pack, pack_file)
    if pack.company != root.name:
        raise RubricError(pack_file, f"company {pack.company!r} differs from the pack's folder name {root.name!r}; "
                          "make them the same", field_path="company", line=_line_for(node, ["company"]))
    questions: dict[str, Question] = {}
    files: dict[str, Path] = {}
    for path in sorted((root / QUESTIONS_DIR).glob("*.y*ml")):
        question = load_question(path)
        if question.id in questions:
            raise RubricError(path, f"duplicate question id {question.id!r} (also in {files[question.id]})",
                              field_path="id")
        questions[question.id] = question
        files[question.id] = path
    listed_at: dict[str, str] = {}
    for r_index, round_ in enumerate(pack.rounds):
        for q_index, qid in enumerate(round_.questions):
            loc: list[str | int] = ["rounds", r_index, "questions", q_index]
            where = ".".join(str(p) for p in loc)
            if qid not in questions:
                raise RubricError(
                    pack_file,
                    f"unknown question id {qid!r}{_suggest(qid, questions)}: no {qid}.yaml in "
                    f"{root / QUESTIONS_DIR}",
                    field_path=where,
                    line=_line_for(node, loc),
                )
            if qid in listed_at:
                raise RubricError(pack_file, f"question {qid!r} is already listed at {listed_at[qid]}; "
                                  "it would be asked twice", field_path=where, line=_line_for(node, loc))
            listed_at[qid] = where
            if (round_.kind == "coding") != (questions[qid].coding is not None):
                need = "needs a `coding:` block" if round_.kind == "coding" else "has a `coding:` block"
                raise RubricError(pack_file, f"question {qid!r} {need} but round {round_.id!r} is {round_.kind}",
                                  field_path=where, line=_line_for(node, loc))
    return LoadedPack(pack=pack, questions=questions, root=root, question_files=files)


def discover_packs(rubrics_dir: Path | None = None) -> dict[str, Path]:
    """Company id to pack folder for every pack found (see ``find_packs``); duplicated ids left out."""
    return {company: location.root for company, location in find_packs(rubrics_dir).locations.items()}


def load_company(company: str, rubrics_dir: Path | None = None) -> LoadedPack:
    """One company's pack. UnknownNameError when there is none, RubricError when it is broken or
    its company id is used by two packs."""
    return find_packs(rubrics_dir).load(company)


def load_all(rubrics_dir: Path | None = None) -> list[LoadedPack]:
    """Every pack; the first problem with any of them raises RubricError (see ``load_available``)."""
    packs, errors = find_packs(rubrics_dir).load_available()
    if errors:
        raise errors[0]
    return packs


def load_available(rubrics_dir: Path | None = None) -> tuple[list[LoadedPack], list[RubricError]]:
    """Every pack that loads, and an error for each that does not."""
    return find_packs(rubrics_dir).load_available()


def find_question(question_id: str, packs: list[LoadedPack]) -> tuple[LoadedPack, Question]:
    for loaded in packs:
        if question_id in loaded.questions:
            return loaded, loaded.questions[question_id]
    all_ids = [qid for loaded in packs for qid in loaded.questions]
    raise UnknownNameError(f"unknown question id {question_id!r}{_suggest(question_id, all_ids)}")


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""
