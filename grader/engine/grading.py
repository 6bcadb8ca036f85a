"""Grade a free-text answer against a question's rubric, point by point, and explain the grade.

For each rubric point the grader finds the candidate sentence closest in meaning to any of the
point's reference phrasings. A sentence earns nothing when it does not read as a sentence (a
keyword list, shuffled words), only restates the question, contradicts the reference by negation,
states one of the point's misconceptions, or is read by the judge (a cross-encoder, see ``judge``)
as stating something other than the point. The similarity, the margin over the question's other
points, key-term overlap and the judge's entailment and contradiction become a coverage probability
through the calibration; the score is the expected grade from coverage, relevant detail,
misconceptions and contradicted points, and calibrated cut points turn it into a 0-4 grade.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.engine.calibration import Calibration, CalibrationMissingError, calibration_for_pack
from grader.engine.encoder import CachedEncoder, Encoder, SentenceTransformerEncoder
from grader.engine.judge import Judge, shared_judge
from grader.engine.loader import LoadedPack
from grader.engine.result import GradeResult, MisconceptionResult, PointResult, share_covered
from grader.engine.rubric import CONTRADICTION_PREFIX, Misconception, Question
from grader.engine.text import (
    MAX_ANSWER_WORDS,
    clauses_after_colon,
    clauses_denied,
    definitional_predicate,
    denegate,
    has_negation_word,
    is_negated,
    is_non_answer,
    judge_reading,
    key_terms,
    list_item_sentences,
    named_apart,
    reads_as_shuffled,
    refers_back,
    sentence_shape,
    split_clauses,
    split_sentences,
    term_recall,
    truncate,
    variant_names,
    words,
)

NO_ANSWER = "no answer"
RELEVANCE_FLOOR = 0.2
"""A sentence with at least this chance of covering some point addresses the question: its words
count as relevant detail. Mere topical closeness (an answer about another part of the system) does
not, so off-topic prose earns no credit for its length."""
WORD_ORDER_MIN_WORDS = 20
"""Below this length the word-order score is too noisy to judge an answer by. It was 40, and 30
shuffled words of a model answer then earned 1.46 on average (robustness suite, all packs). Set on
the fitting data (transcripts and style-shift tuning part, never dev): of their 75 real answers of
20-39 words, 5 read as shuffled (graded 0, 0, 1, 1 and 2 by people) and 86-89% of shuffles that
long are caught; at 10-19 words 7 of 43 real answers would be (two graded 2) and 78% caught. With 20
the short shuffles earn 0.57 (max 2, was 3); style-shift dev QWK 0.762 against 0.768 (the 3 dev
answers it newly flags were graded 0; the rest is the refit), leave-one-question-out unchanged
(0.844, adversarial 0.22 / 1)."""
MIN_COVER_SIMILARITY = 0.35
"""No point is covered by a sentence this far from it in meaning, whatever its terms and margin."""
MAX_GRADE_WITH_WRONG_CLAIM = 3
MAX_GRADE_WITHOUT_A_POINT = 1
NEGATION_MARGIN = 0.06
"""A negated sentence earns a point only if it is this much closer to it than its de-negated twin."""
CONTRADICTION_MARGIN = 0.05
"""A negated sentence is *named* as stating the opposite of a point only when its de-negated twin is
this much closer to the point. MiniLM barely moves when a "not" is removed: on the calibration
split the twin is closer by under 0.01 for most negated sentences, in correct answers twice as often
as in wrong ones, so a smaller gap is noise. Any twin that is closer still withholds the point from
the sentence and its clauses; the candidate is just not accused of a claim they may not make."""
TOP_K = 2
"""How many of a point's closest references a sentence is compared with (their mean similarity)."""
NAMED_APART_PENALTY = 0.25
"""Taken off the similarity of a sentence to a phrasing that names a sibling ("L1" against "L2"):
as much as a negation mismatch costs, enough to drop a point match to unrelated."""
COPIED_TERM_SHARE = 0.8
"""Share of a sentence's key terms found in the question at which a sentence close to the question
counts as copied from it, clauses and all."""
EVIDENCE_FLOOR = 0.3
"""Below this similarity the closest sentence is unrelated and not worth quoting."""
JUDGE_FLOOR = MIN_COVER_SIMILARITY
"""The judge reads a sentence beside a point only when they are at least this similar: below it the
point cannot be covered by the sentence anyway, and skipping those pairs keeps grading fast."""
JUDGE_SENTENCES_PER_POINT = 3
"""The judge reads, for each point, only the sentences closest to it (at most this many), and only
a sentence it read can earn the point: evidence the judge never saw would otherwise earn on
similarity alone. Reading every sentence beside every point of a nine-point rubric cost about
450 ms per answer. Measured with the calibration refitted each time (style-shift dev QWK and
adversarial mean; leave-one-question-out QWK and adversarial mean / max):
- every sentence read, any could earn (before): 0.722, 0.81; 0.85, 0.25 / 1;
- 2 nearest read, any could earn: 0.713, 0.84; 0.847, 0.27 / 2;
- 2 nearest read and only they earn: 0.740, 0.78; not run;
- 3 nearest read and only they earn (chosen): 0.740, 0.75; 0.851, 0.23 / 1.
Chosen on those two measures, so the style-shift dev figure is no longer untouched by the choice."""
JUDGE_CONTRADICTS = 0.9
"""The judge's contradiction probability at which a sentence is read as stating a point's opposite:
the sentence then earns nothing for that point. It is never named to the candidate as a wrong claim
on the judge's word alone (see ``_reason``). Chosen among 0.5, 0.7, 0.9 and never by the QWK of the
calibration refitted on the fitting data (calibration split and style-shift tuning part): 0.768,
0.776, 0.788, 0.787. Lower thresholds withhold more correct sentences in the transcripts' style;
never blocking loses most of what the judge adds on answers in other voices."""


_GradeSteps = Generator[list[tuple[str, str]], np.ndarray, GradeResult]
"""One answer's grading: yields the judge pairs it needs, is sent their verdicts, returns the grade."""
_NO_VERDICTS = np.zeros((0, 3), dtype=np.float32)


@dataclass(frozen=True)
class _RubricVectors:
    prompt: np.ndarray
    """The question and, for a multi-sentence question, each of its sentences (one row each)."""
    prompt_terms: frozenset[str]
    """The question's key terms: a sentence made mostly of them is copied from it."""
    references: np.ndarray
    reference_point: np.ndarray
    reference_texts: list[str]
    reference_has_negation: np.ndarray
    """Per reference: it holds a negation word, so the judge's reading of it says nothing of direction."""
    misconceptions: np.ndarray
    misconception_point: np.ndarray
    misconception_negated: np.ndarray
    misconception_names: list[frozenset[tuple[str, str]]]
    misconception_refs: list[tuple[int, Misconception]]
    reference_terms: _TermIndex
    reference_names: list[frozenset[tuple[str, str]]]


class _TermIndex:
    """The key terms of a rubric's references, indexed so that one sentence's ``term_recall`` against
    every reference is one sum over a term-by-reference matrix (grading asks this of every unit)."""

    def __init__(self, reference_terms: list[frozenset[str]]) -> None:
        vocabulary = sorted(set().union(*reference_terms))
        self._column = {term: row for row, term in enumerate(vocabulary)}
        self._uses = np.zeros((len(vocabulary), len(reference_terms)), dtype=np.int32)
        for reference, terms in enumerate(reference_terms):
            for term in terms:
                self._uses[self._column[term], reference] = 1
        self._sizes = np.array([len(terms) for terms in reference_terms], dtype=np.float64)

    def recall(self, sentence_terms: frozenset[str]) -> np.ndarray:
        """Per reference, the share of its key terms the sentence uses (0 for a reference with none)."""
        rows = [self._column[term] for term in sentence_terms if term in self._column]
        shared = self._uses[rows].sum(axis=0)
        return np.divide(shared, self._sizes, out=np.zeros_like(self._sizes), where=self._sizes > 0)


@dataclass(frozen=True)
class _Sentences:
    texts: list[str]
    vectors: np.ndarray
    negated: np.ndarray
    denegated_vectors: np.ndarray
    """Embeddings of the units with negations removed (the unit's own vector when not negated)."""
    eligible: np.ndarray
    keyword_list: np.ndarray
    garbled: np.ndarray
    is_sentence: np.ndarray
    """True for whole sentences, False for clauses split out of long ones."""
    readable: np.ndarray
    """Reads as a sentence (not a list, not shuffled); may still echo the question."""
    names: list[frozenset[tuple[str, str]]]
    """Variant names ("L1", "F1") each unit uses; a clause that names none but opens with a pronoun
    ("so it's sparse") speaks of its sentence's."""


def _unit_names(unit: str, sentence: str) -> frozenset[tuple[str, str]]:
    """The variant names a unit speaks of: its own, or its sentence's when it opens with a pronoun."""
    return variant_names(unit) or (variant_names(sentence) if unit != sentence and refers_back(unit) else frozenset())


@dataclass(frozen=True)
class AnswerReadings:
    """What grading reads in one answer: its units (sentences, and clauses of long ones) and each
    unit's second reading, if any, all encoded in one batch with the other answers'."""

    units: list[str]
    parents: dict[str, str]
    """Each unit's whole sentence (a sentence is its own parent)."""
    listed: set[str]
    """Sentences that are items of a bulleted or numbered list."""
    twins: list[str | None]
    """A negated unit's de-negated twin."""
    bodies: list[str | None]
    """A definition's predicate without its "X is when" opener."""
    notices: list[str]


def answer_readings(answer: str) -> AnswerReadings | None:
    """The units and second readings grading encodes for ``answer``; None for a non-answer."""
    text = answer or ""
    if is_non_answer(text):
        return None
    notices: list[str] = []
    text, was_truncated = truncate(text)
    if was_truncated:
        notices.append(f"Your answer is long: only its first {MAX_ANSWER_WORDS} words were graded (all of it is kept).")
    whole = split_sentences(text) or [text.strip()]
    # Whole sentences and, for long ones, their clauses are all candidate evidence.
    parents = {u: s for s in whole for u in (s, *split_clauses(s)) if u not in whole or u == s}
    units = list(parents)
    list_items = list_item_sentences(text)
    return AnswerReadings(
        units=units,
        parents=parents,
        listed={sentence for sentence in whole if sentence in list_items},
        twins=[denegate(u) if is_negated(u) else None for u in units],
        bodies=[body if (body := definitional_predicate(u)) != u else None for u in units],
        notices=notices,
    )


def texts_to_encode(readings: Sequence[AnswerReadings]) -> tuple[list[str], list[str], list[str]]:
    """What ``grade_many`` encodes in one call, in this order: every answer's units, then their
    de-negated twins, then their definition predicates."""
    return (
        [u for r in readings for u in r.units],
        [t for r in readings for t in r.twins if t is not None],
        [b for r in readings for b in r.bodies if b is not None],
    )


def _own_or_second_reading(block: np.ndarray, has_second: list[bool], seconds: Iterator[np.ndarray]) -> np.ndarray:
    """Each unit's vector, or the next of ``seconds`` where the unit has a second reading."""
    return np.stack([next(seconds) if has else own for own, has in zip(block, has_second, strict=True)])


class Grader:
    """Grades answers for one calibration (one pack, one encoder). Deterministic and thread-safe."""

    def __init__(
        self,
        encoder: Encoder,
        calibration: Calibration,
        *,
        cache_dir: Path | None = None,
        judge: Judge | None = None,
    ) -> None:
        """``judge`` must be the judge the calibration was fitted with, and is required when it was
        fitted with one."""
        if calibration.model_id != encoder.model_id:
            raise ValueError(f"calibration is for {calibration.model_id!r}, encoder is {encoder.model_id!r}")
        if calibration.judge_id is not None:
            if judge is None:
                raise ValueError(f"calibration was fitted with the judge {calibration.judge_id!r}; pass it")
            if judge.judge_id != calibration.judge_id:
                raise ValueError(f"calibration is for the judge {calibration.judge_id!r}, got {judge.judge_id!r}")
        self.encoder = encoder
        self.calibration = calibration
        # A judge the calibration was not fitted with would change grades by unfitted amounts.
        self.judge = judge if calibration.judge_id is not None else None
        self._rubric_encoder: Encoder = CachedEncoder(encoder, cache_dir) if cache_dir else encoder
        self._rubrics: dict[tuple[str, str], _RubricVectors] = {}

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    def warm(self, questions: Sequence[Question]) -> None:
        """Load the models and encode every rubric text now (in one batch) rather than on first grade."""
        # The encoder first: the judge then shares its copy of the embeddings.
        for model in (self.encoder, self.judge):
            load = getattr(model, "load", None)
            if load is not None:
                load()
        missing = [q for q in questions if (q.id, q.version) not in self._rubrics]
        if isinstance(self._rubric_encoder, CachedEncoder):
            # One batch fills the cache; each question below then reads its vectors from it. Without a
            # cache this would only encode everything twice.
            self._rubric_encoder.encode([text for question in missing for text in _rubric_texts(question)])
        for question in missing:
            self._rubric(question)
        if isinstance(self._rubric_encoder, CachedEncoder):
            self._rubric_encoder.save()

    def grade(self, question: Question, answer: str) -> GradeResult:
        return self.grade_many([(question, answer)])[0]

    def grade_many(self, items: Sequence[tuple[Question, str]]) -> list[GradeResult]:
        """Grade several answers, encoding all their sentences in one batch."""
        prepared = [answer_readings(answer) for _, answer in items]
        all_sentences, twins, bodies = texts_to_encode([readings for readings in prepared if readings is not None])
        vectors = self.encoder.encode([*all_sentences, *twins, *bodies]) if all_sentences else None
        n_units_and_twins = len(all_sentences) + len(twins)
        twin_vectors = iter(vectors[len(all_sentences) : n_units_and_twins]) if vectors is not None else iter(())
        body_vectors = iter(vectors[n_units_and_twins:]) if vectors is not None else iter(())
        results: list[GradeResult | None] = []
        waiting: list[tuple[int, _GradeSteps, list[tuple[str, str]]]] = []
        offset = 0
        for (question, _), prep in zip(items, prepared, strict=True):
            if prep is None:
                results.append(self._no_answer(question))
                continue
            assert vectors is not None
            units = prep.units
            block = vectors[offset : offset + len(units)]
            offset += len(units)
            denegated = _own_or_second_reading(block, [t is not None for t in prep.twins], twin_vectors)
            bodies_of_units = _own_or_second_reading(block, [b is not None for b in prep.bodies], body_vectors)
            steps = self._grade_sentences(question, units, block, denegated, bodies_of_units, list(prep.notices),
                                          prep.parents, prep.listed)
            waiting.append((len(results), steps, next(steps)))
            results.append(None)
        # Every answer's judge pairs in one call: one long packed pass is about a quarter quicker than
        # one per answer, and a verdict never depends on the pairs read beside it (judge.py).
        all_pairs = [pair for _, _, pairs in waiting for pair in pairs]
        verdicts = self.judge.judge(all_pairs) if self.judge is not None and all_pairs else None
        start = 0
        for index, steps, pairs in waiting:
            own = verdicts[start : start + len(pairs)] if verdicts is not None else _NO_VERDICTS
            start += len(pairs)
            try:
                steps.send(own)
            except StopIteration as finished:
                results[index] = finished.value
            else:
                raise RuntimeError("grading asked the judge twice for one answer")
        if isinstance(self._rubric_encoder, CachedEncoder):
            self._rubric_encoder.save()
        return [result for result in results if result is not None]

    # -- internals -------------------------------------------------------------------------

    def _rubric(self, question: Question) -> _RubricVectors:
        key = (question.id, question.version)
        cached = self._rubrics.get(key)
        if cached is not None:
            return cached
        references = [(i, ref) for i, point in enumerate(question.points) for ref in point.references]
        misconceptions = [(i, m) for i, point in enumerate(question.points) for m in point.misconceptions]
        phrasings = [(n, phrase) for n, (_, m) in enumerate(misconceptions) for phrase in m.phrasings]
        prompts = _prompt_texts(question)
        texts = [*prompts, *(ref for _, ref in references), *(phrase for _, phrase in phrasings)]
        vectors = self._rubric_encoder.encode(texts)
        n_refs, n_prompts = len(references), len(prompts)
        dim = vectors.shape[1]
        vectors_mis = vectors[n_prompts + n_refs :] if phrasings else np.zeros((0, dim), dtype=np.float32)
        rubric = _RubricVectors(
            prompt=vectors[:n_prompts],
            prompt_terms=key_terms(" ".join(prompts)),
            references=vectors[n_prompts : n_prompts + n_refs],
            reference_point=np.array([i for i, _ in references], dtype=int),
            reference_texts=[ref for _, ref in references],
            reference_has_negation=np.array([has_negation_word(ref) for _, ref in references], dtype=bool),
            misconceptions=vectors_mis,
            misconception_point=np.array([n for n, _ in phrasings], dtype=int),
            misconception_negated=np.array([is_negated(p) for _, p in phrasings], dtype=bool),
            misconception_names=[variant_names(p) for _, p in phrasings],
            misconception_refs=misconceptions,
            reference_terms=_TermIndex([key_terms(ref) for _, ref in references]),
            reference_names=[variant_names(ref) for _, ref in references],
        )
        self._rubrics[key] = rubric
        return rubric

    def _analyse_sentences(
        self, sentences: list[str], vectors: np.ndarray, denegated: np.ndarray, bodies: np.ndarray,
        rubric: _RubricVectors, parents: dict[str, str], listed: set[str],
    ) -> _Sentences:
        whole = {u for u, s in parents.items() if u == s}
        shapes = [sentence_shape(s) for s in sentences]
        # Compared with each sentence of the question, so copying back part of a long prompt is caught.
        # A definition restates the question only if what it says does too: "Overfitting is when the
        # model memorizes the training data" sits at 0.84 from "What is overfitting?" on its opener
        # alone; "the model memorizes the training data" does not (``bodies``: the definitional
        # predicate's vector, the sentence's own when it has no "X is when" opener).
        threshold = self.calibration.echo_threshold
        echo = ((vectors @ rubric.prompt.T).max(axis=1) >= threshold) & (
            (bodies @ rubric.prompt.T).max(axis=1) >= threshold
        )
        # A clause of a sentence copied from the question is copied too, however far its own vector
        # sits from the question: "Explain logistic regression: what it models, which loss ..." earned
        # 2 on the clauses that name the loss. Copied means in the question's own words: a long run-on
        # answer that touches every topic of the question sits as close to it as a copy does.
        echoed = {
            u for u, close in zip(sentences, echo, strict=True)
            if close and u in whole and term_recall(rubric.prompt_terms, key_terms(u)) >= COPIED_TERM_SHARE
        }
        echo |= np.array([parents[u] in echoed for u in sentences], dtype=bool)
        # Terms written one per sentence are a list of terms too.
        keyword_list = np.array(
            [shape.is_keyword_list or s in listed for s, shape in zip(sentences, shapes, strict=True)], dtype=bool
        )
        # Shuffled words are judged on the whole answer: a per-sentence grammar check (function-word
        # pairs such as "the of") was deleted when ablation showed it changed no figure once answers
        # from WORD_ORDER_MIN_WORDS words are judged by word order (docs/eval/ablation.md).
        garbled = np.full(len(sentences), self._reads_as_shuffled([s for s in sentences if s in whole]), dtype=bool)
        return _Sentences(
            texts=sentences,
            vectors=vectors,
            negated=np.array([is_negated(s) for s in sentences], dtype=bool),
            denegated_vectors=denegated,
            eligible=~(keyword_list | garbled | echo),
            readable=~(keyword_list | garbled),
            keyword_list=keyword_list,
            garbled=garbled,
            is_sentence=np.array([s in whole for s in sentences], dtype=bool),
            names=[_unit_names(s, parents[s]) for s in sentences],
        )

    def _point_similarities(
        self, sents: _Sentences, rubric: _RubricVectors, n_points: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Sentence x point similarity: the mean of the sentence's TOP_K closest references of the point.

        Averaging the closest few references rewards a sentence that says what several phrasings of
        the point say, and discounts a chance match with a single phrasing. A negated sentence whose
        de-negated twin is closer to the point states the opposite of the point (a contradiction).
        """
        raw = sents.vectors @ rubric.references.T
        flipped = sents.denegated_vectors @ rubric.references.T
        # A sentence about L1 is no evidence for a phrasing about L2, however close the vectors are.
        apart = self._named_apart(sents.names, rubric.reference_names)
        raw = raw - NAMED_APART_PENALTY * apart
        flipped = flipped - NAMED_APART_PENALTY * apart
        point_sim = np.zeros((len(sents.texts), n_points), dtype=np.float32)
        point_raw = np.zeros((len(sents.texts), n_points), dtype=np.float32)
        contradiction = np.zeros((len(sents.texts), n_points), dtype=bool)
        clear_contradiction = np.zeros((len(sents.texts), n_points), dtype=bool)
        negation_unclear = np.zeros((len(sents.texts), n_points), dtype=bool)
        for p in range(n_points):
            columns = np.flatnonzero(rubric.reference_point == p)
            block = raw[:, columns]
            k = min(TOP_K, len(columns))
            top = np.sort(block, axis=1)[:, -k:].mean(axis=1)
            top_flipped = np.sort(flipped[:, columns], axis=1)[:, -k:].mean(axis=1)
            contradicts = sents.negated & (top_flipped > top)
            # A negation that does not clearly help the match leaves the claim's direction unknown.
            unclear = sents.negated & ~contradicts & (top - top_flipped < NEGATION_MARGIN)
            # For a contradiction, what "would have matched" is the de-negated claim.
            point_raw[:, p] = np.where(contradicts, top_flipped, top)
            point_sim[:, p] = top - self.calibration.negation_penalty * (contradicts | unclear)
            contradiction[:, p] = contradicts
            clear_contradiction[:, p] = contradicts & (top_flipped - top >= CONTRADICTION_MARGIN)
            negation_unclear[:, p] = unclear
        return point_sim, point_raw, contradiction, clear_contradiction, negation_unclear

    def _reads_as_shuffled(self, sentences: list[str]) -> bool:
        """Whether a long answer's word order is no better than chance (shuffled words)."""
        transitions = self.calibration.word_order
        text = " ".join(sentences)
        if transitions is None or len(words(text)) < WORD_ORDER_MIN_WORDS:
            return False
        return reads_as_shuffled(
            text, transitions, self.calibration.word_order_threshold, self.calibration.known_word_pairs
        )

    @staticmethod
    def _named_apart(
        sentence_names: list[frozenset[tuple[str, str]]], target_names: list[frozenset[tuple[str, str]]]
    ) -> np.ndarray:
        """Sentence x target: the sentence names only siblings of what the target names (see ``named_apart``)."""
        apart = np.zeros((len(sentence_names), len(target_names)), dtype=bool)
        if not any(target_names):
            return apart
        for i, said in enumerate(sentence_names):
            if said:
                apart[i] = [named_apart(said, names) for names in target_names]
        return apart

    def _judge_evidence(
        self, sents: _Sentences, rubric: _RubricVectors, n_points: int, worth_reading: np.ndarray | None = None
    ) -> Generator[list[tuple[str, str]], np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Sentence x point: the judge's entailment and contradiction probabilities, and which
        sentences it read for each point (every one when there is no judge).

        It yields the (sentence, reference) pairs it needs read and is sent the judge's verdicts on
        them, so that ``grade_many`` can read every answer's pairs in one call.

        The JUDGE_SENTENCES_PER_POINT readable sentences closest to a point are each read beside the
        point's reference closest to them, only where that reference is at least JUDGE_FLOOR similar
        (zeros elsewhere, and everywhere without a judge). The judge reads almost any "not" as a
        contradiction, including correct negative statements ("you never shuffle before a time
        split") and definitions ("when the model doesn't generalize"), so where the sentence or the
        reference holds a negation word it only says whether the sentence is about the point
        (entailment plus contradiction); which way such a sentence points is left to the negation
        rules.

        Of those nearest sentences, a pair is not read where ``worth_reading`` is False: no verdict
        could give the sentence a real chance of the point (see ``_grade_sentences``).
        """
        shape = (len(sents.texts), n_points)
        entailment = np.zeros(shape, dtype=np.float32)
        contradiction = np.zeros(shape, dtype=np.float32)
        if self.judge is None or not sents.texts:
            yield []
            return entailment, contradiction, np.ones(shape, dtype=bool)
        read = np.zeros(shape, dtype=bool)
        cosine = sents.vectors @ rubric.references.T
        rows = np.arange(len(sents.texts))
        pairs: list[tuple[str, str]] = []
        cells: list[tuple[int, int, int]] = []  # sentence, point, reference read beside it
        for p in range(n_points):
            columns = np.flatnonzero(rubric.reference_point == p)
            closest = columns[np.argmax(cosine[:, columns], axis=1)]
            nearness = cosine[rows, closest]
            candidates = np.flatnonzero(sents.readable & (nearness >= JUDGE_FLOOR))
            nearest_first = candidates[np.argsort(-nearness[candidates], kind="stable")]
            for i in nearest_first[:JUDGE_SENTENCES_PER_POINT]:
                if worth_reading is not None and not worth_reading[i, p]:
                    read[i, p] = True  # taken as neutral
                    continue
                pairs.append((judge_reading(sents.texts[i]), rubric.reference_texts[closest[i]]))
                cells.append((int(i), p, int(closest[i])))
        verdicts = yield pairs
        if not pairs:
            return entailment, contradiction, read
        sentence_has_negation = {i: has_negation_word(sents.texts[i]) for i, _, _ in cells}
        for (i, p, ref), (entail, contra, _) in zip(cells, verdicts, strict=True):
            read[i, p] = True
            if sentence_has_negation[i] or rubric.reference_has_negation[ref]:
                entailment[i, p], contradiction[i, p] = entail + contra, 0.0
            else:
                entailment[i, p], contradiction[i, p] = entail, contra
        return entailment, contradiction, read

    @staticmethod
    def _margins(point_sim: np.ndarray) -> np.ndarray:
        """For each sentence and point: similarity to this point minus the best other point's.

        A sentence that is about another point of the same question is on topic, and close to every
        point a little; what marks it as covering *this* point is being closer to it than to the rest.
        """
        if point_sim.shape[1] < 2:
            return np.zeros_like(point_sim)
        ordered = np.sort(point_sim, axis=1)
        best, second = ordered[:, -1:], ordered[:, -2:-1]
        best_other = np.where(point_sim >= best, second, best)
        return point_sim - best_other

    @staticmethod
    def _term_overlap(sents: _Sentences, rubric: _RubricVectors, n_points: int) -> np.ndarray:
        """For each sentence and point: the largest share of one reference's key terms it uses."""
        overlap = np.zeros((len(sents.texts), n_points), dtype=np.float32)
        for i, text in enumerate(sents.texts):
            np.maximum.at(overlap[i], rubric.reference_point, rubric.reference_terms.recall(key_terms(text)))
        return overlap

    def _similarities(
        self, sents: _Sentences, targets: np.ndarray, target_negated: np.ndarray,
        target_names: list[frozenset[tuple[str, str]]],
    ) -> np.ndarray:
        """Sentence x target cosine, lowered where one side is negated and the other is not, and
        where the sentence names a sibling of what the target names ("L1" against "L2")."""
        if targets.shape[0] == 0:
            return np.zeros((len(sents.texts), 0), dtype=np.float32)
        raw = sents.vectors @ targets.T
        mismatch = sents.negated[:, None] != target_negated[None, :]
        apart = self._named_apart(sents.names, target_names)
        return raw - self.calibration.negation_penalty * mismatch - NAMED_APART_PENALTY * apart

    def _grade_sentences(
        self, question: Question, sentences: list[str], vectors: np.ndarray, denegated: np.ndarray,
        bodies: np.ndarray, notices: list[str], parents: dict[str, str], listed: set[str],
    ) -> _GradeSteps:
        """Grade one answer from its units: whole sentences, and clauses of long ones mapped to
        their sentence in ``parents`` (evidence always quotes the whole sentence). ``listed`` are
        the sentences that are items of a list of terms.

        A generator: it yields the judge pairs it needs once, is sent their verdicts, and returns
        the grade (see ``grade_many``)."""
        cal = self.calibration
        rubric = self._rubric(question)
        sents = self._analyse_sentences(sentences, vectors, denegated, bodies, rubric, parents, listed)
        sentences = [parents[u] for u in sentences]  # quote whole sentences from here on
        n_points = len(question.points)

        point_sim, point_raw, contradiction, clear_contradiction, negation_unclear = self._point_similarities(
            sents, rubric, n_points
        )
        # A clause answers for its sentence's negation too: "It is not true that L1 gives zeros, so it
        # produces sparse models" must not earn the sparsity point through its second clause.
        # What follows a colon is asserted on its own ("X isn't the adjacency: it runs random walks").
        parent = np.array([sents.texts.index(sentence) for sentence in sentences])
        after_colon = {s: clauses_after_colon(s) for s in set(sentences)}
        own_claim = np.array([u in after_colon[s] for u, s in zip(sents.texts, sentences, strict=True)])
        # Only a negation in the sentence's leading clause reaches all its other clauses, and a denial
        # ("which is not true") the clauses before it. One further on is local to its own clause:
        # "use early stopping so it doesn't keep training past the best epoch". On the calibration split this fixed four
        # point decisions and broke two (grouped-CV point accuracy 92.4% -> 92.6%).
        denied = {s: clauses_denied(s) for s in set(sentences)}
        inherits = np.array([u in denied[s] for u, s in zip(sents.texts, sentences, strict=True)])
        negation_blocks = contradiction | negation_unclear | (contradiction[parent] & (inherits & ~own_claim)[:, None])
        margin = self._margins(point_sim)
        overlap = self._term_overlap(sents, rubric, n_points)
        # The judge costs most of a grade. A pair it could not move to a real chance of the point
        # (RELEVANCE_FLOOR), whatever it read, is taken as a neutral verdict unread: a third of the
        # pairs on the style-shift dev set (1,459 -> 960 for its first 105 answers).
        best_judged = cal.best_judged_probabilities(point_sim, margin, overlap)
        worth_reading = None if best_judged is None else (best_judged >= RELEVANCE_FLOOR) & (
            point_sim >= MIN_COVER_SIMILARITY
        )
        entailment, judged_contradiction, judge_read = yield from self._judge_evidence(
            sents, rubric, n_points, worth_reading
        )
        judged_against = (judged_contradiction >= JUDGE_CONTRADICTS) & (judged_contradiction > entailment)

        # Misconceptions: a stated wrong claim is named, penalised, and its sentence earns no point.
        blocked = np.zeros((len(sentences), n_points), dtype=bool)
        found: list[MisconceptionResult] = []
        suspected: list[MisconceptionResult] = []
        with_clauses = {sentence for unit, sentence in parents.items() if unit != sentence}
        split_up = np.array([text in with_clauses for text in sents.texts], dtype=bool)
        mis_sim = self._similarities(
            sents, rubric.misconceptions, rubric.misconception_negated, rubric.misconception_names
        )
        for n, (p, misconception) in enumerate(rubric.misconception_refs):
            sim = mis_sim[:, rubric.misconception_point == n].max(axis=1)
            closer_than_point = sim > point_sim[:, p] + cal.misconception_margin
            # Echoing the question's words does not excuse a wrong claim, so readability is enough here.
            # A long sentence split into clauses is judged by its clauses: its own vector blends every
            # claim in it, and a run-on answer about bagging and boosting then sits as close to "bagging
            # reduces bias and boosting variance" as to the truth.
            stated = sents.readable & ~split_up & (sim >= cal.misconception_threshold) & closer_than_point
            if stated.any():
                best = int(np.argmax(np.where(stated, sim, -np.inf)))
                wrong = {sentences[i] for i in np.flatnonzero(stated)}
                in_wrong = np.array([s in wrong for s in sentences])
                if sim[best] >= cal.misconception_naming_threshold:
                    # An interviewer credits nothing in a wrong statement, whichever point it touches,
                    # and nothing in the rest of the sentence it sits in.
                    blocked[in_wrong, :] = True
                else:
                    # Only a suspicion: the sentence loses the point the claim is about, nothing more.
                    blocked[in_wrong, p] = True
                suspect = MisconceptionResult(
                    point_id=question.points[p].id,
                    misconception_id=misconception.id,
                    claim=misconception.claim,
                    correction=misconception.correction,
                    evidence=sentences[best],
                    similarity=round(float(sim[best]), 4),
                    margin=round(float(sim[best] - point_sim[best, p]), 4),
                )
                if sim[best] < cal.misconception_naming_threshold:
                    # Close enough to withhold the point, not close enough to tell the candidate they
                    # said it: MiniLM puts a claim and its mirror image ("L1 is the absolute penalty,
                    # L2 the squared" against the swap) within this band, and a false accusation
                    # costs more than a missed one.
                    suspected.append(suspect)
                    continue
                found.append(suspect)

        points: list[PointResult] = []
        weighted = 0.0
        unit_chances = np.zeros((len(sentences), n_points), dtype=np.float32)
        for p, point in enumerate(question.points):
            # A negated sentence earns a point only when its negation is part of how the point is said.
            usable = (
                sents.eligible & ~blocked[:, p] & ~negation_blocks[:, p] & ~judged_against[:, p] & judge_read[:, p]
            )
            chances = cal.coverage_probabilities(
                point_sim[:, p], margin[:, p], overlap[:, p], entailment[:, p], judged_contradiction[:, p]
            )
            chances = np.where(point_sim[:, p] >= MIN_COVER_SIMILARITY, chances, 0.0)
            unit_chances[:, p] = np.where(usable, chances, 0.0)
            best = int(np.argmax(np.where(usable, chances, -np.inf)))
            similarity = float(point_sim[best, p]) if usable.any() else 0.0
            probability = float(chances[best]) if usable.any() else 0.0
            covered = probability >= 0.5
            weighted += point.weight * probability
            evidence = sentences[best] if usable.any() and similarity >= EVIDENCE_FLOOR else None
            reason = self._reason(
                covered, similarity, p, sents, sentences, blocked | negation_blocks, point_raw, found, suspected,
                judged_against,
            )
            points.append(
                PointResult(
                    point_id=point.id,
                    title=point.title,
                    weight=point.weight,
                    covered=covered,
                    probability=round(probability, 4),
                    confidence=round(probability if covered else 1.0 - probability, 4),
                    similarity=round(similarity, 4),
                    margin=round(float(margin[best, p]), 4) if usable.any() else 0.0,
                    term_overlap=round(float(overlap[best, p]), 4) if usable.any() else 0.0,
                    entailment=round(float(entailment[best, p]), 4) if usable.any() else 0.0,
                    contradiction=round(float(judged_contradiction[best, p]), 4) if usable.any() else 0.0,
                    evidence=evidence,
                    reason=reason,
                    feedback=point.feedback,
                    probe=point.probe,
                )
            )

        # A sentence that would earn a missed point but for its negation states the opposite of the
        # point: an interviewer marks that down like a misconception, so it is named and penalised.
        threshold = cal.coverage_threshold
        for p, point in enumerate(question.points):
            if points[p].covered or any(m.point_id == point.id for m in found):
                continue
            opposite = sents.eligible & clear_contradiction[:, p] & (point_raw[:, p] >= threshold)
            if opposite.any():
                best = int(np.argmax(np.where(opposite, point_raw[:, p], -np.inf)))
                found.append(
                    MisconceptionResult(
                        point_id=point.id,
                        misconception_id=f"{CONTRADICTION_PREFIX}{point.id}",
                        claim=f"States the opposite of: {point.title}",
                        correction=point.feedback,
                        evidence=sentences[best],
                        similarity=round(float(point_raw[best, p]), 4),
                    )
                )
        coverage = weighted / question.total_weight
        contradicted_weight = sum(
            point.weight
            for p, point in enumerate(question.points)
            if not points[p].covered and (judged_against[:, p] & sents.eligible).any()
        )
        contradicted_share = contradicted_weight / question.total_weight
        relevant_words = self._relevant_words(
            sents, sentences, unit_chances, contradiction | blocked | judged_against
        )
        n_misconceptions = len({(m.point_id, m.misconception_id) for m in found})
        score = cal.score_for(
            coverage, share_covered(points), relevant_words, n_misconceptions, contradicted_share
        )
        grade = cal.grade_for(score)
        if not any(point.covered for point in points) and grade > MAX_GRADE_WITHOUT_A_POINT:
            # Grade 2 means the core idea is there; with no rubric point covered it cannot be.
            grade = MAX_GRADE_WITHOUT_A_POINT
            notices.append("No rubric point was clearly covered, which caps the grade at 1.")
        if found and grade > MAX_GRADE_WITH_WRONG_CLAIM:
            # However complete the rest, an interviewer does not call an answer excellent if it also
            # states something wrong.
            grade = MAX_GRADE_WITH_WRONG_CLAIM
            notices.append("A wrong claim in your answer caps its grade at 3.")
        # A capped grade keeps its score inside the grade's band, so the two never disagree.
        if grade < 4:
            score = min(score, int(cal.grade_cutpoints[grade]) - 1)
        notices = [*notices, *self._answer_notices(sents)]
        return GradeResult(
            question_id=question.id,
            grade=grade,
            score=score,
            points=points,
            coverage=round(coverage, 4),
            relevant_words=relevant_words,
            contradicted_share=round(contradicted_share, 4),
            misconceptions=found,
            notices=notices,
            model_id=self.model_id,
            rubric_version=question.version,
            calibration_id=cal.id,
        )

    def _reason(
        self,
        covered: bool,
        similarity: float,
        p: int,
        sents: _Sentences,
        sentences: list[str],
        blocked: np.ndarray,
        point_raw: np.ndarray,
        found: list[MisconceptionResult],
        suspected: list[MisconceptionResult],
        judged_against: np.ndarray,
    ) -> str:
        """Why the point was or was not earned, in words the candidate can act on."""
        if covered:
            return f"covered (similarity {similarity:.2f})"
        threshold = self.calibration.coverage_threshold
        closest = int(np.argmax(point_raw[:, p]))
        if judged_against[closest, p] and not blocked[closest, p]:
            # On questions it never saw, about one in four sentences the judge reads as contradicting
            # a point does not (model card), so the candidate hears that the sentence was not
            # credited and how to make it unambiguous, never that they said something wrong.
            return (
                f"your sentence {_short_quote(sentences[closest])} was not read as stating this point, "
                "so it was not credited: state the point plainly"
            )
        if point_raw[closest, p] >= threshold:
            if blocked[closest, p]:
                def same_sentence(m: MisconceptionResult) -> bool:
                    return m.evidence in sents.texts[closest] or sents.texts[closest] in m.evidence

                claim = next((m.claim for m in found if same_sentence(m)), None)
                close_call = next((m.claim for m in suspected if same_sentence(m)), None)
                if claim is None and close_call is not None:
                    return (
                        f"your sentence {_short_quote(sentences[closest])} reads about as close to a common "
                        f"wrong claim ({close_call}) as to this point, so it was not credited: "
                        "state the point so it cannot be read the other way"
                    )
                if claim is None:
                    # Say which sentence and why: the sentence model hardly tells "do X" from "do not
                    # X", so a point stated only in the negative may be right and still not credited.
                    return (
                        f"your sentence {_short_quote(sentences[closest])} is negated, and the grader cannot "
                        "reliably tell a negated sentence from its opposite: state the point positively"
                    )
                return f"the closest sentence states a wrong claim: {claim}"
            if sents.keyword_list[closest]:
                return "only named in a list of terms, not explained"
            if sents.garbled[closest]:
                return "the answer's word order reads as shuffled words"
            if not sents.eligible[closest]:
                return "the closest sentence only restates the question"
            return "a close sentence, but it fits another point of this question better or is too vague"
        if similarity >= EVIDENCE_FLOOR:
            return f"loosely related at best (similarity {similarity:.2f}, needs about {threshold:.2f})"
        return "not mentioned"

    @staticmethod
    def _relevant_words(sents: _Sentences, parent_of: list[str], chances: np.ndarray, against: np.ndarray) -> int:
        """Words of whole sentences that may cover some rubric point, without a wrong claim.

        Interviewers reward relevant elaboration; padding, keyword lists, wrong claims and prose
        about something else add nothing. A sentence counts when it, or one of its clauses, has a
        real chance (RELEVANCE_FLOOR) of covering a point; each sentence is counted once.
        """
        best_chance: dict[str, float] = {}
        for i, sentence in enumerate(parent_of):
            best_chance[sentence] = max(best_chance.get(sentence, 0.0), float(chances[i].max(initial=0.0)))
        total = 0
        for i, text in enumerate(sents.texts):
            if not sents.is_sentence[i] or not sents.eligible[i]:
                continue
            # A sentence that states a wrong claim adds no credit for detail, whatever else it touches.
            if against[i].any():
                continue
            if best_chance.get(text, 0.0) >= RELEVANCE_FLOOR:
                total += len(words(text))
        return total

    @staticmethod
    def _answer_notices(sents: _Sentences) -> list[str]:
        notices = []
        if (sents.keyword_list & sents.is_sentence).any():
            notices.append(
                "Parts of your answer are a list of terms: terms alone earn no credit; say how they connect."
            )
        if sents.garbled.any():
            notices.append(
                "Your answer's word order reads as shuffled words, so it earned no credit: write it as sentences."
            )
        return notices

    def _no_answer(self, question: Question) -> GradeResult:
        points = [
            PointResult(
                point_id=point.id,
                title=point.title,
                weight=point.weight,
                covered=False,
                probability=0.0,
                confidence=1.0,
                similarity=0.0,
                evidence=None,
                reason=NO_ANSWER,
                feedback=point.feedback,
                probe=point.probe,
            )
            for point in question.points
        ]
        return GradeResult(
            question_id=question.id,
            grade=0,
            score=0,
            points=points,
            notices=["No answer was given."],
            model_id=self.model_id,
            rubric_version=question.version,
            calibration_id=self.calibration.id,
        )


def _short_quote(text: str, limit: int = 60) -> str:
    """A sentence in quotes, cut at a word boundary when longer than ``limit`` characters."""
    if len(text) <= limit:
        return f"“{text}”"
    return f"“{text[:limit].rsplit(' ', 1)[0]}…”"


def _prompt_texts(question: Question) -> list[str]:
    sentences = split_sentences(question.prompt)
    if len(sentences) < 2:
        return [question.prompt]
    return [question.prompt, *(s for s in sentences if s != question.prompt)]


def _rubric_texts(question: Question) -> list[str]:
    texts = _prompt_texts(question)
    for point in question.points:
        texts.extend(point.references)
        for misconception in point.misconceptions:
            texts.extend(misconception.phrasings)
    return texts


def grader_for_pack(
    loaded: LoadedPack, encoder: Encoder | None = None, *, cache_dir: Path | None = None
) -> Grader:
    """A grader for a pack: the calibration fitted across packs for the encoder's model (see
    ``calibration_for_pack``), so a pack needs no transcripts of its own.

    The encoder defaults to the packaged all-MiniLM-L6-v2; it is not loaded until first use.
    Raises CalibrationMissingError when there is no calibration for that model.
    """
    from grader.paths import cache_dir as default_cache_dir

    encoder = encoder or SentenceTransformerEncoder()
    calibration = calibration_for_pack(loaded.root, encoder.model_id)
    return Grader(
        encoder, calibration, cache_dir=cache_dir or default_cache_dir(), judge=judge_for_calibration(calibration)
    )


def judge_for_calibration(calibration: Calibration) -> Judge | None:
    """The installed judge when ``calibration`` was fitted with one (None when it was not).

    Raises CalibrationMissingError when the installed judge is not the one it was fitted with.
    """
    if calibration.judge_id is None:
        return None
    judge = shared_judge()
    if judge.judge_id != calibration.judge_id:
        raise CalibrationMissingError(
            f"the calibration for {calibration.model_id!r} was fitted with the judge {calibration.judge_id!r}, "
            f"but the installed judge is {judge.judge_id!r}; refit it with: mockint calibrate"
        )
    return judge
