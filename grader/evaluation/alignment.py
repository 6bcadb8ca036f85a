"""BERTScore-style token alignment between a student answer and a reference answer.

Each text becomes a sequence of contextual token vectors from the SAME sentence model the grader
uses (special tokens dropped, each vector L2-normalised). Greedy matching gives, per token, its
best cosine in the other text; averaging those (optionally IDF-weighted, IDF from TRAIN answers
only) gives alignment precision (answer tokens covered by the reference), recall (reference tokens
covered by the answer) and their F1. Content-token recall restricts recall to the reference's
content tokens, and "new" recall further drops tokens the question already contains, so that
restating the question earns nothing.

``question_demoted_features`` carries that demotion to both directions and to the parts of the
reference: what the answer adds beyond the question must be supported by the reference
(new-content precision), what the reference adds beyond the question must be covered by the
answer (new-content recall, IDF-weighted, its weakest token, and per clause -- "facet" -- of the
reference, since an answer that covers one clause of a two-clause reference is incomplete).
These features describe the answer relative to ITS question and reference, which is what
transfers to questions without graded answers.

The token vectors and the pooled sentence vector of a text come out of ONE model pass (the
forward pass that ``encode(..., output_value=None)`` runs, driven here so that it can use every
core), so the benchmark never runs the model twice over a text it needs both for. Encoders
without access to token vectors (test fakes, other back ends) fall back to encoding each word on
its own, which keeps the features defined everywhere. Token vectors are cached on disk as float16
(sentence vectors as float32), one ``.npz`` per model, so a repeated benchmark run does not
touch -- or even load -- the model.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from grader.engine.text import NEGATION_CUES, words
from grader.evaluation.baselines import STOP_WORDS

QUESTION_DEMOTED_FEATURES = (
    "echo_share",
    "new_f1",
    "new_recall_idf",
    "new_min_recall",
    "new_matched_share",
    "new_precision",
    "new_recall_idf_max",
    "new_f1_mean",
    "facet_min_recall",
    "facet_mean_recall",
    "facet_matched_share",
    "facet_count",
    "content_length_ratio",
    "new_content_length_ratio",
)
NEGATION_SCOPE_FEATURES = ("negation_scope_mismatch", "negation_scope_mismatch_weighted")
NEGATION_WORDS = frozenset(cue for cue in NEGATION_CUES if "'" not in cue)
"""The engine's negation cues that arrive as one word piece (a contraction arrives split; see negation_scope)."""
SCOPE_BREAKS = frozenset({",", ".", ";", "and", "but", "because", "so", "or", "while", "which", "when", "if"})
NEGATION_SCOPE_WORDS = 5
"""How many words after a negation it governs (a clause break ends it sooner)."""
ALIGNED = 0.5
"""Reference tokens matched less closely than this have no counterpart whose polarity could disagree."""
MATCHED = 0.75
"""A token this close to its best counterpart counts as matched (a near paraphrase, not just related)."""
FACET_MATCHED = 0.7
"""A facet whose tokens are on average this well covered counts as stated."""
FACET_BREAKS = frozenset({",", ";", ".", "and", "because", "so", "since", "but", "which", "while", "if", "then"})
"""Where a reference answer's clauses (facets) are cut."""
MAX_FACETS = 6
MAX_LENGTH_RATIO = 4.0

ALIGNMENT_FEATURES = (
    "align_precision",
    "align_recall",
    "align_f1",
    "align_precision_idf",
    "align_recall_idf",
    "align_f1_idf",
    "align_content_recall",
    "align_new_recall",
    "align_min_content_recall",
    "align_question_precision",
)


@dataclass(frozen=True)
class TokenVectors:
    tokens: tuple[str, ...]
    vectors: np.ndarray
    """One L2-normalised float32 row per token."""
    sentence: np.ndarray | None = None
    """The whole text's L2-normalised sentence vector from the same model pass, when the embedder made one."""

    def __len__(self) -> int:
        return len(self.tokens)


class TokenEmbedder(Protocol):
    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]: ...


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run torch with ``count`` intra-op threads inside the block (when torch is loaded), then restore.

    Two intra-op threads on two cores are fastest on an idle machine, but when another process
    holds a core every operator waits for the descheduled thread: encoding 1,500 answers took
    2 s idle and 20-70 s busy with two threads, against a steady 4 s with one.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class TransformerTokenEmbedder:
    """Contextual word-piece vectors (special tokens dropped) and the sentence vector, in one pass.

    ``model`` is a loaded sentence-transformers model or a zero-argument callable returning one, so
    that a run whose vectors are all cached never pays for loading the model. Batches are
    tokenised here, in one thread (a fast tokenizer is not safe to share between threads), and the
    forward passes run in ``workers`` threads of one torch thread each: all cores busy on an idle
    machine, and no thread stalling on a core another process holds (see ``torch_threads``).
    """

    def __init__(self, model: Any, model_id: str, *, batch_size: int = 64, workers: int | None = None) -> None:
        self._model = model
        self._model_id = model_id
        # Texts are sorted by length first, so larger batches waste little on padding.
        self.batch_size = batch_size
        self.workers = workers or default_workers()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def model(self) -> Any:
        if not hasattr(self._model, "preprocess"):  # still the loader
            self._model = self._model()
        return self._model

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]:
        if not texts:
            return []
        model = self.model
        texts = [t if t.strip() else " " for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        inputs = [model.preprocess([texts[i] for i in batch]) for batch in batches]
        torch = sys.modules.get("torch")

        def forward(features: dict[str, Any]) -> dict[str, Any]:
            with torch.inference_mode() if torch is not None else nullcontext():
                return model(features)

        special = set(getattr(model.tokenizer, "all_special_tokens", []))
        out: list[TokenVectors | None] = [None] * len(texts)
        with torch_threads(1), ThreadPoolExecutor(self.workers) as pool:
            for batch, outputs in zip(batches, pool.map(forward, inputs), strict=True):
                for row, index in enumerate(batch):
                    out[index] = self._item(outputs, row, model.tokenizer, special)
        return [item for item in out if item is not None]

    @staticmethod
    def _item(outputs: dict[str, Any], row: int, tokenizer: Any, special: set[str]) -> TokenVectors:
        mask = _numpy(outputs["attention_mask"][row]).astype(bool)
        tokens = tokenizer.convert_ids_to_tokens(_numpy(outputs["input_ids"][row])[mask].tolist())
        matrix = _numpy(outputs["token_embeddings"][row])[mask]
        keep = [i for i, token in enumerate(tokens) if token not in special]
        return TokenVectors(
            tuple(tokens[i] for i in keep),
            _normalise(matrix[keep].reshape(len(keep), -1)),
            _normalise(_numpy(outputs["sentence_embedding"][row]).reshape(1, -1))[0],
        )


def _numpy(value: Any) -> np.ndarray:
    """A torch tensor or an array as a float32/int numpy array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        return value.float().numpy() if value.is_floating_point() else value.numpy()
    return np.asarray(value)


class WordTokenEmbedder:
    """Fallback: every word encoded on its own by a sentence encoder (no context)."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder

    @property
    def model_id(self) -> str:
        return f"{self.encoder.model_id}#words"

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]:
        if not texts:
            return []
        split = [words(t) for t in texts]
        vocab = list(dict.fromkeys(w for ws in split for w in ws))
        vectors = dict(zip(vocab, self.encoder.encode(vocab), strict=True)) if vocab else {}
        sentences = self.encoder.encode([t if t.strip() else " " for t in texts])
        out = []
        for ws, sentence in zip(split, sentences, strict=True):
            matrix = np.stack([vectors[w] for w in ws]) if ws else np.zeros((0, 1), dtype=np.float32)
            out.append(TokenVectors(tuple(ws), _normalise(matrix), np.asarray(sentence, dtype=np.float32)))
        return out


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CachedTokenEmbedder:
    """Token vectors cached on disk per model: float16, concatenated, with per-text offsets.

    The sentence vector of each text is kept beside them (float32, as the sentence cache keeps it).
    """

    def __init__(self, inner: TokenEmbedder, directory: Path) -> None:
        self.inner = inner
        self.directory = directory
        self._store: dict[str, TokenVectors] | None = None
        self._dirty = False

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def path(self) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_.@#" else "_" for ch in self.model_id)
        return self.directory / f"tokens-v2-{safe}.npz"

    def _load(self) -> dict[str, TokenVectors]:
        if self._store is None:
            self._store = {}
            if self.path.exists():
                try:
                    with np.load(self.path) as data:
                        keys, lengths = data["keys"], data["lengths"]
                        tokens, matrix = data["tokens"], data["vectors"].astype(np.float32)
                        sentences = data["sentences"]
                    bounds = np.concatenate([[0], np.cumsum(lengths)])
                    token_list = tokens.tolist()
                    for i, key in enumerate(keys.tolist()):
                        lo, hi = int(bounds[i]), int(bounds[i + 1])
                        self._store[key] = TokenVectors(tuple(token_list[lo:hi]), matrix[lo:hi], sentences[i])
                except (OSError, KeyError, ValueError):
                    self._store = {}  # a corrupt cache is rebuilt, never trusted
        return self._store

    def embed(self, texts: Sequence[str]) -> list[TokenVectors]:
        store = self._load()
        keys = [_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in store))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            for key, value in zip(missing, self.inner.embed([by_key[k] for k in missing]), strict=True):
                # round-trip through float16 now, so a cold and a repeated run see identical vectors
                if value.sentence is None:
                    raise ValueError(f"{self.inner.model_id}: the token embedder made no sentence vector to cache")
                store[key] = TokenVectors(
                    value.tokens, value.vectors.astype(np.float16).astype(np.float32), value.sentence.astype(np.float32)
                )
            self._dirty = True
        return [store[k] for k in keys]

    def save(self) -> None:
        if not self._dirty or self._store is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        items = list(self._store.items())
        dims = {v.vectors.shape[1] for _, v in items if len(v)}
        dim = dims.pop() if len(dims) == 1 else 1
        matrices = [v.vectors if len(v) else np.zeros((0, dim), dtype=np.float32) for _, v in items]
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".npz.tmp")
        os.close(fd)
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                keys=np.array([k for k, _ in items]),
                lengths=np.array([len(v) for _, v in items], dtype=np.int32),
                tokens=np.array([t for _, v in items for t in v.tokens], dtype=str),
                vectors=np.concatenate(matrices).astype(np.float16) if matrices else np.zeros((0, 1), np.float16),
                sentences=np.stack([v.sentence for _, v in items]) if items else np.zeros((0, 1), np.float32),
            )
        os.replace(tmp, self.path)
        self._dirty = False


def token_embedder_for(encoder: Any, cache_dir: Path | None = None) -> TokenEmbedder:
    """The token embedder matching ``encoder``: the same sentence-transformers weights when reachable.

    Unwraps caching wrappers (anything with an ``encoder`` attribute); a ``SentenceTransformerEncoder``
    yields contextual word-piece vectors, anything else the per-word fallback. The model is loaded
    only when a text is missing from the cache.
    """
    from grader.engine.encoder import SentenceTransformerEncoder

    inner = encoder
    while not isinstance(inner, SentenceTransformerEncoder) and hasattr(inner, "encoder"):
        inner = inner.encoder
    embedder: TokenEmbedder
    if isinstance(inner, SentenceTransformerEncoder):
        st_encoder = inner
        embedder = TransformerTokenEmbedder(lambda: st_encoder.sentence_model, f"{inner.model_id}#tokens")
    else:
        embedder = WordTokenEmbedder(encoder)
    return CachedTokenEmbedder(embedder, cache_dir) if cache_dir is not None else embedder


# -- features --------------------------------------------------------------------------------------


def _word_of(tokens: Sequence[str]) -> list[str]:
    """The whole word each word piece belongs to ('##' pieces join the word before them)."""
    out: list[str] = []
    current = ""
    starts: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.startswith("##") and starts:
            current += tok[2:]
        else:
            if starts:
                out.extend([current] * (i - starts[-1]))
            starts.append(i)
            current = tok
    if starts:
        out.extend([current] * (len(tokens) - starts[-1]))
    return out


def content_mask(tokens: Sequence[str]) -> np.ndarray:
    """Tokens of content words: alphanumeric, not a stop word, longer than two characters."""
    return np.array([w.isalnum() and w.lower() not in STOP_WORDS and len(w) > 2 for w in _word_of(tokens)], dtype=bool)


def token_idf(documents: Iterable[TokenVectors]) -> tuple[dict[str, float], float]:
    """Smoothed IDF of each token over ``documents`` (TRAIN answers only), and the unseen-token IDF."""
    df: dict[str, int] = {}
    n = 0
    for doc in documents:
        n += 1
        for tok in set(doc.tokens):
            df[tok] = df.get(tok, 0) + 1
    default = math.log((n + 1) / 1)
    return {tok: math.log((n + 1) / (count + 1)) for tok, count in df.items()}, default


def greedy_alignment(
    answer: TokenVectors, reference: TokenVectors, idf: dict[str, float] | None = None, default_idf: float = 1.0
) -> tuple[float, float, float]:
    """BERTScore greedy matching: (precision, recall, F1), IDF-weighted when ``idf`` is given."""
    if not len(answer) or not len(reference):
        return 0.0, 0.0, 0.0
    sims = answer.vectors @ reference.vectors.T
    best_for_answer = sims.max(axis=1)
    best_for_reference = sims.max(axis=0)
    if idf is None:
        precision = float(best_for_answer.mean())
        recall = float(best_for_reference.mean())
    else:
        wa = np.array([idf.get(t, default_idf) for t in answer.tokens]) + 1e-9
        wr = np.array([idf.get(t, default_idf) for t in reference.tokens]) + 1e-9
        precision = float(best_for_answer @ wa / wa.sum())
        recall = float(best_for_reference @ wr / wr.sum())
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


def alignment_features(
    answer: TokenVectors,
    references: Sequence[TokenVectors],
    question: TokenVectors,
    idf: dict[str, float],
    default_idf: float,
) -> list[float]:
    """The ALIGNMENT_FEATURES of one answer, each taken from its best reference (by alignment F1)."""
    return TokenFeatures(idf, default_idf).extract(answer, references, question)[0]


def question_demoted_features(
    answer: TokenVectors,
    references: Sequence[TokenVectors],
    question: TokenVectors,
    idf: dict[str, float],
    default_idf: float,
) -> tuple[list[float], int]:
    """The QUESTION_DEMOTED_FEATURES of one answer and the index of the reference they were read from."""
    _, demoted, _, best = TokenFeatures(idf, default_idf).extract(answer, references, question)
    return demoted, best


@dataclass(frozen=True)
class _TextView:
    """What the features need to know about one text's tokens besides their vectors."""

    words: tuple[str, ...]
    """The lower-cased whole word each token belongs to."""
    content: np.ndarray
    idf: np.ndarray
    """Each token's IDF (+1e-9, so an all-zero weighting still divides)."""
    negated: np.ndarray
    """Tokens inside a negation's scope (``negation_scope``)."""


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


class TokenFeatures:
    """ALIGNMENT_FEATURES and QUESTION_DEMOTED_FEATURES of answers, sharing the per-text work.

    A question's text and references recur in every one of its answers: their words, content masks
    and IDF weights are worked out once per text, and each answer-reference similarity matrix once
    for all the features that read it.
    """

    def __init__(self, idf: dict[str, float], default_idf: float) -> None:
        self.idf = idf
        self.default_idf = default_idf
        self._views: dict[int, tuple[TokenVectors, _TextView]] = {}

    def view(self, text: TokenVectors) -> _TextView:
        found = self._views.get(id(text))
        if found is not None and found[0] is text:
            return found[1]
        view = _TextView(
            words=tuple(_words_lower(text.tokens)),
            content=content_mask(text.tokens) if len(text) else np.zeros(0, dtype=bool),
            idf=np.array([self.idf.get(t, self.default_idf) for t in text.tokens]) + 1e-9,
            negated=negation_scope(text.tokens),
        )
        self._views[id(text)] = (text, view)  # the object is kept, so its id cannot be reused
        return view

    def extract(
        self, answer: TokenVectors, references: Sequence[TokenVectors], question: TokenVectors
    ) -> tuple[list[float], list[float], list[float], int]:
        """ALIGNMENT_FEATURES, QUESTION_DEMOTED_FEATURES, NEGATION_SCOPE_FEATURES, and the index of the
        reference the question-demoted features were read from."""
        a = self.view(answer)
        q = self.view(question)
        question_words = set(q.words)
        answer_new = a.content & np.array([w not in question_words for w in a.words], dtype=bool)
        plain: list[tuple[float, float, float]] = []
        weighted: list[tuple[float, float, float]] = []
        coverage: list[np.ndarray] = []
        partners: list[np.ndarray] = []
        """For each reference token, the answer token it is best matched with."""
        for ref in references:
            if not len(answer) or not len(ref):
                plain.append((0.0, 0.0, 0.0))
                weighted.append((0.0, 0.0, 0.0))
                coverage.append(np.zeros(len(ref)))
                partners.append(np.zeros(len(ref), dtype=int))
                continue
            r = self.view(ref)
            sims = answer.vectors @ ref.vectors.T
            best_for_answer, best_for_reference = sims.max(axis=1), sims.max(axis=0)
            precision, recall = float(best_for_answer.mean()), float(best_for_reference.mean())
            plain.append((precision, recall, _f1(precision, recall)))
            precision = float(best_for_answer @ a.idf / a.idf.sum())
            recall = float(best_for_reference @ r.idf / r.idf.sum())
            weighted.append((precision, recall, _f1(precision, recall)))
            coverage.append(best_for_reference)
            partners.append(sims.argmax(axis=0))
        aligned = self._aligned(answer, references, question, plain, weighted, coverage, question_words)
        if not len(answer):
            return aligned, [0.0] * len(QUESTION_DEMOTED_FEATURES), [0.0] * len(NEGATION_SCOPE_FEATURES), 0
        demoted, best = self._demoted(a, answer_new, references, coverage, question_words, answer)
        return aligned, demoted, self._negation(a, references, coverage, partners), best

    def _negation(
        self, a: _TextView, references: Sequence[TokenVectors], coverage: list[np.ndarray], partners: list[np.ndarray]
    ) -> list[float]:
        """NEGATION_SCOPE_FEATURES against the reference whose content tokens the answer covers best.

        The share of that reference's matched content tokens whose counterpart in the answer has the
        other polarity ("are not connected" against "are connected"), plain and weighted by how
        close the match is. A whole-answer negation flag cannot tell "not connected" from "connected,
        not separated"; aligned tokens can.
        """
        best: tuple[float, list[float]] | None = None
        for ref, covered, partner in zip(references, coverage, partners, strict=True):
            r = self.view(ref)
            if not len(ref) or not r.content.any():
                continue
            matched = r.content & (covered > ALIGNED)
            values = [0.0, 0.0]
            if matched.any():
                disagree = r.negated[matched] != a.negated[partner[matched]]
                values = [float(disagree.mean()), float(disagree @ covered[matched] / covered[matched].sum())]
            recall = float(covered[r.content].mean())
            if best is None or recall > best[0]:
                best = (recall, values)
        return best[1] if best is not None else [0.0] * len(NEGATION_SCOPE_FEATURES)

    def _aligned(
        self,
        answer: TokenVectors,
        references: Sequence[TokenVectors],
        question: TokenVectors,
        plain: list[tuple[float, float, float]],
        weighted: list[tuple[float, float, float]],
        coverage: list[np.ndarray],
        question_words: set[str],
    ) -> list[float]:
        best = max(range(len(references)), key=lambda i: plain[i][2])
        best_idf = max(range(len(references)), key=lambda i: weighted[i][2])
        content_recall = new_recall = min_content = 0.0
        if len(answer) and len(references[best]):
            r = self.view(references[best])
            covered = coverage[best]
            if r.content.any():
                content_recall = float(covered[r.content].mean())
                min_content = float(covered[r.content].min())
            new = r.content & np.array([w not in question_words for w in r.words], dtype=bool)
            new_recall = float(covered[new].mean()) if new.any() else content_recall
        question_precision = 0.0
        if len(answer) and len(question):
            question_precision = float((answer.vectors @ question.vectors.T).max(axis=1).mean())
        return [*plain[best], *weighted[best_idf], content_recall, new_recall, min_content, question_precision]

    def _demoted(
        self,
        a: _TextView,
        answer_new: np.ndarray,
        references: Sequence[TokenVectors],
        coverage: list[np.ndarray],
        question_words: set[str],
        answer: TokenVectors,
    ) -> tuple[list[float], int]:
        """QUESTION_DEMOTED_FEATURES (see the module docstring) and the reference with the best new-content F1."""
        echo_share = float((a.content & ~answer_new).sum() / max(1, a.content.sum()))
        per_reference = []
        best_facets: tuple[float, float, float, float] | None = None
        for index, ref in enumerate(references):
            if not len(ref):
                continue
            r = self.view(ref)
            ref_new = r.content & np.array([w not in question_words for w in r.words], dtype=bool)
            if not ref_new.any():  # the reference only restates the question: judge it on its content
                ref_new = r.content if r.content.any() else np.ones(len(ref), dtype=bool)
            covered = coverage[index]
            weights = r.idf[ref_new]
            recall_idf = float(covered[ref_new] @ weights / weights.sum())
            precision = 0.0
            if answer_new.any():
                precision = float((answer.vectors[answer_new] @ ref.vectors.T).max(axis=1).mean())
            per_reference.append(
                (
                    _f1(precision, recall_idf),
                    index,
                    [recall_idf, float(covered[ref_new].min()), float((covered[ref_new] > MATCHED).mean()), precision],
                    [
                        float(min(MAX_LENGTH_RATIO, a.content.sum() / max(1, r.content.sum()))),
                        float(min(MAX_LENGTH_RATIO, answer_new.sum() / max(1, ref_new.sum()))),
                    ],
                )
            )
            facet_recalls = np.array([covered[m].mean() for m in facet_masks(r.words, ref_new)] or [covered.mean()])
            facets = (
                float(facet_recalls.min()),
                float(facet_recalls.mean()),
                float((facet_recalls > FACET_MATCHED).mean()),
                float(min(len(facet_recalls), MAX_FACETS)),
            )
            if best_facets is None or facets[1] > best_facets[1]:
                best_facets = facets
        if not per_reference or best_facets is None:
            return [echo_share] + [0.0] * (len(QUESTION_DEMOTED_FEATURES) - 1), 0
        f1, best, coverage_values, lengths = max(per_reference, key=lambda item: item[0])
        return [
            echo_share,
            f1,
            *coverage_values,
            max(item[2][0] for item in per_reference),
            float(np.mean([item[0] for item in per_reference])),
            *best_facets,
            *lengths,
        ], best


def _words_lower(tokens: Sequence[str]) -> list[str]:
    return [w.lower() for w in _word_of(tokens)]


def negation_scope(tokens: Sequence[str]) -> np.ndarray:
    """Which tokens a negation governs: the NEGATION_SCOPE_WORDS words after "not", "no", "n't"...

    A clause break (comma, "and", "because"...) ends the scope early. Word pieces follow their
    word; "don't" arrives as "don", "'", "t", so a "t" after an apostrophe after "...n" is a cue.
    """
    out = np.zeros(len(tokens), dtype=bool)
    words = _words_lower(tokens)
    remaining = 0
    in_scope = False
    for i, (token, word) in enumerate(zip(tokens, words, strict=True)):
        if not token.startswith("##"):
            if word in SCOPE_BREAKS:
                remaining = 0
            in_scope = remaining > 0
            remaining = max(0, remaining - 1)
            contracted = token == "t" and i >= 2 and tokens[i - 1] == "'" and tokens[i - 2].endswith("n")
            if word in NEGATION_WORDS or contracted:
                remaining = NEGATION_SCOPE_WORDS
        out[i] = in_scope
    return out


def facet_masks(words: Sequence[str], new_content: np.ndarray) -> list[np.ndarray]:
    """Masks of a reference's clauses, cut at commas and connectives; each keeps only ``new_content`` tokens.

    ``words`` are the lower-cased whole words of the reference's tokens (one per token).
    """
    masks: list[np.ndarray] = []
    current = np.zeros(len(words), dtype=bool)
    for i, word in enumerate(words):
        if word in FACET_BREAKS and current.any():
            masks.append(current)
            current = np.zeros(len(words), dtype=bool)
        elif new_content[i]:
            current[i] = True
    if current.any():
        masks.append(current)
    return masks
