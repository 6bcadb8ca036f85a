"""The judge: reads a candidate's sentence beside one reference of a rubric point and says whether
the sentence states the point (entails), states its opposite (contradicts) or says something else.

A bi-encoder puts "L1 drives weights to exactly zero" and the same sentence with "L2" at cosine
0.96: similarity cannot tell a claim from its mirror image. The judge is a cross-encoder (both texts
in one pass, so every word of one attends to every word of the other) with a three-way head, built
on the packaged all-MiniLM-L6-v2 and fine-tuned by ``scripts/train_judge.py`` on SemEval-2013 train
and on contrast pairs written for the Meta and Airbnb packs (never on Pinterest, the pack every
figure is reported on). Only the fine-tuned transformer layers and head are shipped (float16, about
21 MB); the word embeddings are frozen during training and come from the packaged model, so the
weights add nothing that is not already on disk.

The judge is a separate object passed into the grader like the encoder, so tests use a fast fake
and the grader's calibration records which judge it was fitted with.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from grader.engine.encoder import (
    ModelUnavailableError,
    bfloat16_allowed,
    loaded_packaged_embeddings,
    packaged_model_path,
    prepare_model_environment,
    quiet_transformers,
)

if TYPE_CHECKING:  # packed_bert imports torch, which the judge imports only when it loads
    from grader.engine.packed_bert import PackedBertLayers

JUDGE_WEIGHTS_PATH = Path(__file__).parent / "judge_weights" / "weights.safetensors"
LABELS = ("entail", "contradict", "neutral")
MAX_TOKENS = 96
"""A sentence and a reference are rarely longer than 60 tokens together; longer pairs are cut."""
CHECK_PAIRS = [
    ("l1 pushes a bunch of weights all the way to zero", "L1 drives some weights exactly to zero."),
    ("Boosting trains all its trees in parallel on bootstrap samples and averages them.",
     "Gradient boosting trains trees sequentially, each one fitting the errors of the ones before."),
    ("We split the logs by time.", "Evaluate on a later time window than the one trained on, never a random split."),
]
"""Pairs the packed pass must read as the network's own forward pass does before it is used."""
PACKED_TOLERANCE = 0.02
"""How far (in probability) the packed pass may read a check pair from the stock forward pass. In
bfloat16 the two differ by up to about 0.005 (rounding in a different order); a library change that
altered BERT's maths would move them far more."""


class JudgeUnavailableError(ModelUnavailableError):
    """The judge's weights or the model it is built on cannot be loaded; the message says why."""


@runtime_checkable
class Judge(Protocol):
    """Reads (candidate sentence, reference) pairs; one row of probabilities per pair, in LABELS order."""

    @property
    def judge_id(self) -> str:
        """Identifies the weights, so a calibration is never used with a judge it was not fitted with."""
        ...

    def judge(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray: ...


def weights_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:10]


def stored_judge_id(path: Path = JUDGE_WEIGHTS_PATH) -> str | None:
    """The id of the judge shipped at ``path`` (None when there is none), without loading it."""
    return f"minilm-judge@{weights_fingerprint(path)}" if path.is_file() else None


def build_model(base_path: Path, embeddings: Any | None = None) -> Any:
    """The judge network: the sentence model's BERT with a three-way head on its mean-pooled tokens.

    ``embeddings``: the loaded embeddings module of a BERT built from ``base_path`` (the encoder's).
    The judge's embeddings are the base model's, frozen in training, so it uses that module instead
    of loading a second copy (about 47 MB); its other weights are left unset, for the caller to load.
    """
    import torch
    from transformers import AutoConfig, AutoModel

    class JudgeNetwork(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if embeddings is None:
                self.bert = AutoModel.from_pretrained(str(base_path))
            else:
                with torch.device("meta"):  # nothing allocated or initialised: the weights come next
                    bert = AutoModel.from_config(AutoConfig.from_pretrained(str(base_path)))
                bert.encoder.to_empty(device="cpu")
                if bert.pooler is not None:
                    bert.pooler.to_empty(device="cpu")
                bert.embeddings = embeddings
                self.bert = bert
            self.head = torch.nn.Linear(self.bert.config.hidden_size, len(LABELS))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
            return self.head(pooled)

    return JudgeNetwork()


def trained_state(model: Any) -> dict[str, Any]:
    """What is shipped: every trained tensor in float16, without the frozen embeddings."""
    return {
        name: tensor.detach().to("cpu").half().contiguous()
        for name, tensor in model.state_dict().items()
        if not name.startswith("bert.embeddings.")
    }


def save_judge_weights(model: Any, path: Path) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(trained_state(model), str(path))


def check_path(weights_path: Path) -> Path:
    """Where the stock forward pass's verdicts on ``CHECK_PAIRS`` are recorded for the weights at ``weights_path``."""
    return weights_path.with_name("check.json")


def stock_check_probabilities(model: Any, tokenizer: Any) -> np.ndarray:
    """The network's own forward pass (float32, one pair at a time) on ``CHECK_PAIRS``."""
    import torch

    out = np.zeros((len(CHECK_PAIRS), len(LABELS)), dtype=np.float32)
    with torch.inference_mode():
        for row, pair in enumerate(CHECK_PAIRS):
            ids, types = _pair_tensors(tokenizer.encode(*pair))
            logits = model(ids[None], torch.ones_like(ids)[None], types[None]).float()
            out[row] = torch.softmax(logits[0], dim=-1).numpy()
    return out


def record_check(model: Any, tokenizer: Any, weights_path: Path) -> Path:
    """Write the stock pass's verdicts on ``CHECK_PAIRS`` beside the weights (``train_judge.py`` and
    ``record_model_checks.py`` call this); the shipped judge checks its packed pass against them."""
    import json

    record = {
        "judge_id": stored_judge_id(weights_path),
        "pairs": [list(pair) for pair in CHECK_PAIRS],
        "probabilities": stock_check_probabilities(model, tokenizer).tolist(),
    }
    path = check_path(weights_path)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def judge_tokenizer(base_path: Path) -> Any:
    """The base model's tokenizer for (sentence, reference) pairs, cut to ``MAX_TOKENS`` as transformers'
    ``truncation=True`` does (the longer text loses tokens first)."""
    from grader.engine.bert_checkpoint import load_tokenizer

    tokenizer = load_tokenizer(base_path)
    tokenizer.enable_truncation(MAX_TOKENS, strategy="longest_first")
    return tokenizer


def _pair_tensors(encoding: Any) -> tuple[Any, Any]:
    import torch

    return torch.tensor(encoding.ids), torch.tensor(encoding.type_ids)


class MiniLMJudge:
    """The shipped judge on the CPU. Loading is deferred to first use (or ``load``), as for the encoder.

    It is read with torch, safetensors and tokenizers alone (``bert_checkpoint``) and run by the
    packed pass, which is trusted only after reading ``CHECK_PAIRS`` as the network's own forward
    pass does: against verdicts recorded beside the weights (``check.json``), or, when there are
    none for these weights, against the network built by transformers at load. If the packed pass
    disagrees, that network judges instead.

    Verdicts are remembered per pair: the same answer is graded many times during fitting and
    regrading, and a rubric's references recur in every answer.
    """

    def __init__(self, weights_path: Path = JUDGE_WEIGHTS_PATH, base_path: Path | None = None) -> None:
        self._weights_path = weights_path
        self._base_path = base_path
        self._model: Any = None  # the transformers network, only when the packed pass cannot be used
        self._head: Any = None
        self._tokenizer: Any = None
        self._memo: dict[tuple[str, str], np.ndarray] = {}
        self._lock = threading.Lock()
        self._id: str | None = None
        self._bfloat16 = False
        self._packed: PackedBertLayers | None = None

    @property
    def judge_id(self) -> str:
        if self._id is None:
            found = stored_judge_id(self._weights_path)
            if found is None:
                raise JudgeUnavailableError(
                    f"the judge's weights are missing ({self._weights_path}); reinstall mockint, "
                    "or rebuild them with: python scripts/train_judge.py"
                )
            self._id = found
        return self._id

    @property
    def loaded(self) -> bool:
        return self._packed is not None or self._model is not None

    @property
    def fast_path(self) -> bool:
        """Whether verdicts come from the packed pass (False: from the transformers network)."""
        return self._packed is not None

    def load(self) -> None:
        with self._lock:
            if self.loaded:
                return
            _ = self.judge_id  # a missing weights file is reported before torch is imported
            prepare_model_environment()
            try:
                import torch
                from safetensors import SafetensorError

                from grader.engine.bert_checkpoint import (
                    BertConfig,
                    UnsupportedCheckpointError,
                    load_bert,
                    load_embeddings,
                    read_tensors,
                )
                from grader.engine.packed_bert import PackedBertLayers
            except ImportError as exc:
                raise JudgeUnavailableError(f"the judge needs torch and tokenizers ({exc.name} is missing)") from None
            base = self._base_path or packaged_model_path()
            # The packaged model's embeddings, if an encoder in this process has loaded them.
            shared = loaded_packaged_embeddings() if self._base_path is None else None
            try:
                config = BertConfig.read(base)
                embeddings = shared if shared is not None else load_embeddings(config, base / "model.safetensors")
                bert = load_bert(config, self._weights_path, prefix="bert.", embeddings=embeddings)
                head = torch.nn.Linear(config.hidden_size, len(LABELS))
                head.load_state_dict(read_tensors(self._weights_path, ["weight", "bias"], "head."))
                self._tokenizer = judge_tokenizer(base)
            except (OSError, RuntimeError, ValueError, SafetensorError) as exc:  # UnsupportedCheckpointError too
                reason = exc if isinstance(exc, UnsupportedCheckpointError) else f"{self._weights_path}: {exc}"
                raise JudgeUnavailableError(f"cannot load the judge: {reason}") from None
            self._head = head.eval().requires_grad_(False)
            # Only where the CPU multiplies bfloat16 in hardware: emulated it is slower than float32.
            self._bfloat16 = bfloat16_allowed()
            packed = PackedBertLayers(bert, bfloat16=self._bfloat16, attention_group_size=1)
            if self._packed_reads_as_stock(packed, base):
                packed.free_stock_weights()  # the stock pass never runs, and the judge is big
                self._packed = packed
                self._model = None  # built only to check the packed pass, if there was no record
            elif self._model is None:
                self._model = self._stock_network(base)

    def forget(self) -> None:
        """Drop the remembered verdicts (benchmarks time the model, not the memo)."""
        self._memo.clear()

    def judge(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        missing = [pair for pair in dict.fromkeys(pairs) if pair not in self._memo]
        if missing:
            self.load()
            for pair, row in zip(missing, self._run(missing), strict=True):
                self._memo[pair] = row
        return np.stack([self._memo[pair] for pair in pairs])

    def _run(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if self._packed is not None:
            return self._run_packed(self._packed, pairs)
        return self._run_stock(pairs)

    def _run_packed(self, layers: PackedBertLayers, pairs: list[tuple[str, str]]) -> np.ndarray:
        """The pairs' tokens laid end to end, each pair attending alone (see ``PackedBertLayers``):
        no padding, so about half the time of padded batches, and every verdict is bit for bit the
        same whatever other pairs are read with it (a grade must not depend on its batch)."""
        import torch

        from grader.engine.packed_bert import TOKENS_PER_PASS, pass_ends

        encodings = self._tokenizer.encode_batch(list(pairs))
        lengths = [len(encoding.ids) for encoding in encodings]
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        with torch.inference_mode():
            first = 0
            for last in pass_ends(lengths, TOKENS_PER_PASS):
                ids = torch.tensor([t for encoding in encodings[first:last] for t in encoding.ids])
                types = torch.tensor([t for encoding in encodings[first:last] for t in encoding.type_ids])
                hidden = layers.hidden_states(ids, types, lengths[first:last])
                offset = 0
                for row, length in enumerate(lengths[first:last], start=first):
                    pooled = hidden[offset : offset + length].mean(dim=0, keepdim=True)
                    # One pair per product: a float32 product of a few rows rounds by how many it has.
                    out[row] = torch.softmax(self._head(pooled)[0], dim=-1).numpy()
                    offset += length
                first = last
        return out

    def _run_stock(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """The network's own forward pass, one pair at a time (so at a shape set by the pair alone):
        used only when the packed pass does not reproduce it."""
        import torch

        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bfloat16):
            for row, pair in enumerate(pairs):
                ids, types = _pair_tensors(self._tokenizer.encode(*pair))
                logits = self._model(ids[None], torch.ones_like(ids)[None], types[None]).float()
                out[row] = torch.softmax(logits[0], dim=-1).numpy()
        return out

    def _packed_reads_as_stock(self, packed: PackedBertLayers, base: Path) -> bool:
        """Whether the packed pass reads ``CHECK_PAIRS`` within ``PACKED_TOLERANCE`` of the stock pass."""
        try:
            fast = self._run_packed(packed, CHECK_PAIRS)
        except Exception:  # a failing speed path must never stop the judge from loading
            return False
        stock = recorded_check_probabilities(self._weights_path, self.judge_id)
        if stock is None:  # no record for these weights: build the stock network and ask it
            self._model = self._stock_network(base)
            stock = stock_check_probabilities(self._model, self._tokenizer)
        return float(np.abs(fast - stock).max()) <= PACKED_TOLERANCE

    def _stock_network(self, base: Path) -> Any:
        """The judge as transformers builds it (``build_model``) with the shipped weights."""
        try:
            from safetensors.torch import load_file
        except ImportError as exc:
            raise JudgeUnavailableError(f"the judge needs safetensors ({exc.name} is missing)") from None
        quiet_transformers()
        try:
            model = build_model(base)
            model.load_state_dict(load_file(str(self._weights_path)), strict=False)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            raise JudgeUnavailableError(f"cannot load the judge from {self._weights_path}: {exc}") from None
        return model.eval()


def recorded_check_probabilities(weights_path: Path, judge_id: str) -> np.ndarray | None:
    """The stock pass's recorded verdicts on ``CHECK_PAIRS`` for the judge ``judge_id``; None when
    there is no record for exactly these weights and pairs."""
    import json

    try:
        record = json.loads(check_path(weights_path).read_text(encoding="utf-8"))
        if record["judge_id"] != judge_id or record["pairs"] != [list(pair) for pair in CHECK_PAIRS]:
            return None
        probabilities = np.asarray(record["probabilities"], dtype=np.float32)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return probabilities if probabilities.shape == (len(CHECK_PAIRS), len(LABELS)) else None


_SHARED: dict[Path, MiniLMJudge] = {}
_SHARED_LOCK = threading.Lock()


def shared_judge(weights_path: Path = JUDGE_WEIGHTS_PATH) -> MiniLMJudge:
    """One judge per weights file for the whole process: graders for several packs share its memory."""
    with _SHARED_LOCK:
        if weights_path not in _SHARED:
            _SHARED[weights_path] = MiniLMJudge(weights_path)
        return _SHARED[weights_path]
