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


class MiniLMJudge:
    """The shipped judge on the CPU. Loading is deferred to first use (or ``load``), as for the encoder.

    Verdicts are remembered per pair: the same answer is graded many times during fitting and
    regrading, and a rubric's references recur in every answer.
    """

    def __init__(self, weights_path: Path = JUDGE_WEIGHTS_PATH, base_path: Path | None = None) -> None:
        self._weights_path = weights_path
        self._base_path = base_path
        self._model: Any = None
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
        return self._model is not None

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            _ = self.judge_id  # a missing weights file is reported before torch is imported
            prepare_model_environment()
            try:
                import torch  # noqa: F401 -- checked here, so a missing torch is reported in one line
                from safetensors.torch import load_file
                from transformers import AutoTokenizer
            except ImportError as exc:
                raise JudgeUnavailableError(f"the judge needs torch and transformers ({exc.name} is missing)") from None
            quiet_transformers()
            base = self._base_path or packaged_model_path()
            # The packaged model's embeddings, if an encoder in this process has loaded them.
            shared = loaded_packaged_embeddings() if self._base_path is None else None
            try:
                model = build_model(base, shared)
                state = load_file(str(self._weights_path))  # float16; load_state_dict converts as it copies
                missing, unexpected = model.load_state_dict(state, strict=False)
            except (OSError, RuntimeError, ValueError) as exc:
                raise JudgeUnavailableError(f"cannot load the judge from {self._weights_path}: {exc}") from None
            not_embeddings = [name for name in missing if not name.startswith("bert.embeddings.")]
            if not_embeddings or unexpected:
                raise JudgeUnavailableError(
                    f"{self._weights_path}: weights do not fit the judge "
                    f"(missing {not_embeddings[:2]}, unexpected {list(unexpected)[:2]})"
                )
            model.eval()  # no dropout; the passes turn gradients off for their own calls only
            self._tokenizer = AutoTokenizer.from_pretrained(str(base))
            # Only where the CPU multiplies bfloat16 in hardware: emulated it is slower than float32.
            self._bfloat16 = bfloat16_allowed()
            self._model = model
            self._packed = self._checked_packed()

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

        encoded = self._tokenizer(
            [a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=MAX_TOKENS
        )
        lengths = [len(ids) for ids in encoded["input_ids"]]
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        head = self._model.head
        with torch.inference_mode():
            first = 0
            for last in pass_ends(lengths, TOKENS_PER_PASS):
                ids = torch.tensor([t for row in encoded["input_ids"][first:last] for t in row])
                types = torch.tensor([t for row in encoded["token_type_ids"][first:last] for t in row])
                hidden = layers.hidden_states(ids, types, lengths[first:last])
                offset = 0
                for row, length in enumerate(lengths[first:last], start=first):
                    pooled = hidden[offset : offset + length].mean(dim=0, keepdim=True)
                    # One pair per product: a float32 product of a few rows rounds by how many it has.
                    out[row] = torch.softmax(head(pooled)[0], dim=-1).numpy()
                    offset += length
                first = last
        return out

    def _run_stock(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """The network's own forward pass, one pair at a time (so at a shape set by the pair alone):
        used only when the packed pass does not reproduce it."""
        import torch

        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bfloat16):
            for row, (sentence, reference) in enumerate(pairs):
                batch = self._tokenizer(
                    sentence, reference, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
                )
                logits = self._model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).float()
                out[row] = torch.softmax(logits[0], dim=-1).numpy()
        return out

    def _checked_packed(self) -> PackedBertLayers | None:
        """The packed pass over the judge's BERT if it reads the check pairs as the stock pass does."""
        from grader.engine.packed_bert import PackedBertLayers

        try:
            packed = PackedBertLayers(self._model.bert, bfloat16=self._bfloat16, attention_group_size=1)
            fast = self._run_packed(packed, CHECK_PAIRS)
        except Exception:  # a failing speed path must never stop the judge from loading
            return None
        stock = self._run_stock(CHECK_PAIRS)
        if float(np.abs(fast - stock).max()) > PACKED_TOLERANCE:
            return None
        packed.free_stock_weights()  # the stock pass is not run again, and the judge is big
        return packed


_SHARED: dict[Path, MiniLMJudge] = {}
_SHARED_LOCK = threading.Lock()


def shared_judge(weights_path: Path = JUDGE_WEIGHTS_PATH) -> MiniLMJudge:
    """One judge per weights file for the whole process: graders for several packs share its memory."""
    with _SHARED_LOCK:
        if weights_path not in _SHARED:
            _SHARED[weights_path] = MiniLMJudge(weights_path)
        return _SHARED[weights_path]
