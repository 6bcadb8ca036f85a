"""Repair misspelt technical terms toward the rubric's own words before an answer is encoded.

MiniLM splits a misspelt word into unrelated word pieces ("embeding" -> "em", "##bed", "##ing"), so
"the image and text embeding of the creativ" loses most of its meaning, and the key-term overlap
loses the term entirely. Candidates who type fast or write in a second language deserve the
points they made. The repair is deliberately narrow: a word is changed only when it is not an
English word the model knows, and exactly one word of the question's rubric lies within one edit
of it (two for words of eight letters or more). It only ever produces a word the rubric already
uses, so it can fix a term but never invent one; a keyword list stays a keyword list.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from grader.engine.text import FUNCTION_WORDS

MIN_REPAIR_LENGTH = 4
"""Shorter words are too easily one edit away from an unrelated rubric word."""
LONG_WORD = 8
"""From this length, two edits are allowed: long technical words collect more typos."""

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


@functools.cache
def known_english_words(vocab_file: Path | None = None) -> frozenset[str]:
    """Whole words of the packaged model's WordPiece vocabulary (about 20,000 common English words).

    It stands in for a dictionary: a word the tokenizer knows whole is spelt as people spell it.
    Returns an empty set when the model package is missing (the repair then stays off).
    """
    if vocab_file is None:
        from grader.engine.encoder import ModelUnavailableError, packaged_model_path

        try:
            vocab_file = packaged_model_path() / "vocab.txt"
        except ModelUnavailableError:
            return frozenset()
    if not vocab_file.is_file():
        return frozenset()
    lines = vocab_file.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w.isalpha() and w.isascii() and w.islower())


def _deletions(word: str, depth: int) -> set[str]:
    """Every string left after deleting up to ``depth`` letters of ``word`` (itself included)."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count as one edit): "teh" is one edit from "the"."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _allowed_edits(word: str) -> int:
    return 2 if len(word) >= LONG_WORD else 1


_INFLECTIONS = ("ings", "ing", "ers", "ors", "ions", "ion", "ed", "es", "er", "or", "ly", "al", "s", "d")


def _is_inflection_of(word: str, known: frozenset[str]) -> bool:
    """Whether ``word`` is a known word plus a common ending ("alerts", "grained", "estimator").

    The vocabulary holds base forms more often than inflected ones; without this, "deletion" would
    be "repaired" to the rubric's "selection".
    """
    for ending in _INFLECTIONS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[: -len(ending)]
            if stem in known or f"{stem}e" in known or (len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in known):
                return True
    return False


class SpellingRepair:
    """Maps misspelt words of an answer onto the words of one question's rubric."""

    def __init__(self, rubric_texts: Iterable[str], known_words: frozenset[str]) -> None:
        words = {w.lower() for text in rubric_texts for w in _WORD.findall(text)}
        self._known = known_words | words
        # Only content words are repair targets: function words ("because", "don't") carry the
        # answer's structure and negation, which are judged on what the candidate typed.
        self._targets = {w for w in words if w not in FUNCTION_WORDS and "'" not in w}
        self._enabled = bool(known_words)
        # A deletion index (as in SymSpell): two words within k edits share a string reachable by
        # at most k deletions from each, so candidates are found without scanning the rubric.
        self._index: dict[str, set[str]] = {}
        for target in self._targets:
            if len(target) >= MIN_REPAIR_LENGTH:
                for key in _deletions(target, _allowed_edits(target)):
                    self._index.setdefault(key, set()).add(target)

    def correction(self, word: str) -> str | None:
        """The rubric word ``word`` is a misspelling of, or None when it is not one (or is ambiguous)."""
        lower = word.lower()
        if not self._enabled or len(lower) < MIN_REPAIR_LENGTH or lower in self._known or "'" in lower:
            return None
        if _is_inflection_of(lower, self._known):
            return None
        allowed = _allowed_edits(lower)
        # Typists rarely miss the first letter; a different one usually means a different word
        # ("grained" is not "trained").
        candidates = {
            t for key in _deletions(lower, allowed) for t in self._index.get(key, ()) if t[0] == lower[0]
        }
        scored = sorted((_edit_distance(lower, t), t) for t in candidates)
        scored = [(d, t) for d, t in scored if d <= min(allowed, _allowed_edits(t))]
        if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
            return None
        return scored[0][1]

    def repair(self, text: str) -> str:
        """``text`` with each misspelt rubric term replaced by the rubric's spelling."""

        first = _WORD.search(text)

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            # Capitals past the sentence's first word mark names and acronyms (Pinterest, FAISS,
            # SHAP), which are spelt as their owners spell them.
            if any(c.isupper() for c in word) and not (first and match.start() == first.start()):
                return word
            if word[1:] != word[1:].lower():
                return word
            corrected = self.correction(word)
            if corrected is None:
                return word
            return corrected.capitalize() if word[0].isupper() else corrected

        return _WORD.sub(fix, text)
