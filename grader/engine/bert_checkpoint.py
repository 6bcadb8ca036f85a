"""A sentence-transformers BERT checkpoint read with torch, safetensors and tokenizers alone.

The grader never runs a model's stock forward pass: it runs the packed pass (``packed_bert``) over
the model's weights. So it needs the weights, the config and the tokenizer, not the libraries that
define the whole model. Importing sentence-transformers (and with it transformers) costs about
2.8 s and 190 MB on top of torch on this project's machines: more than a third of the grader's
peak memory, for code the grader does not run. This module reads a checkpoint folder as
sentence-transformers writes it (``modules.json``, ``config.json``, ``model.safetensors``,
``tokenizer.json``) into plain torch modules laid out and named as transformers' ``BertModel``, so
the safetensors keys load as they are and the packed pass reads them unchanged.

Only the layout the packed pass reproduces is read: Transformer -> mean Pooling -> Normalize over
a BERT with absolute positions, no prompts and no lower-casing by sentence-transformers (a
lower-casing tokenizer does it itself). Anything else raises ``UnsupportedCheckpointError`` and the
caller loads the model with sentence-transformers instead. The caller also checks the vectors this
gives against sentence-transformers' own before using them (see ``encoder.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from tokenizers import Encoding, Tokenizer
from torch import nn
from torch.nn import functional

MODULE_TYPES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
WEIGHTS_FILE = "model.safetensors"


class UnsupportedCheckpointError(ValueError):
    """The folder is not a checkpoint this module reproduces exactly; load it the stock way."""


@dataclass(frozen=True)
class BertConfig:
    """The fields of a transformers ``BertConfig`` the packed pass needs."""

    hidden_size: int
    num_attention_heads: int
    num_hidden_layers: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def read(cls, path: Path) -> BertConfig:
        """The config in ``path/config.json``; refuses any BERT variant the packed pass does not reproduce."""
        raw = _read_json(path / "config.json")
        refusals = {
            "model_type": raw.get("model_type") != "bert",
            "hidden_act": raw.get("hidden_act", "gelu") != "gelu",
            "position_embedding_type": raw.get("position_embedding_type", "absolute") != "absolute",
            "is_decoder": bool(raw.get("is_decoder", False)),
            "add_cross_attention": bool(raw.get("add_cross_attention", False)),
        }
        refused = [name for name, bad in refusals.items() if bad]
        if refused:
            raise UnsupportedCheckpointError(f"{path / 'config.json'}: unsupported {refused[0]}")
        try:
            config = cls(**{name: raw[name] for name in cls.__dataclass_fields__ if name != "layer_norm_eps"},
                         layer_norm_eps=float(raw.get("layer_norm_eps", 1e-12)))
        except KeyError as missing:
            raise UnsupportedCheckpointError(f"{path / 'config.json'}: no {missing.args[0]}") from None
        if config.hidden_size % config.num_attention_heads:
            raise UnsupportedCheckpointError(f"{path / 'config.json'}: heads do not divide the hidden size")
        return config


class _Embeddings(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)


class _SelfAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.scaling = (config.hidden_size // config.num_attention_heads) ** -0.5


class _DenseNorm(nn.Module):
    def __init__(self, inputs: int, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(inputs, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)


class _Attention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(config)
        self.output = _DenseNorm(config.hidden_size, config)


class _Intermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    @staticmethod
    def intermediate_act_fn(hidden: torch.Tensor) -> torch.Tensor:
        return functional.gelu(hidden)  # BERT's "gelu": the exact erf form

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.intermediate_act_fn(self.dense(hidden))


class _Layer(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(config)
        self.intermediate = _Intermediate(config)
        self.output = _DenseNorm(config.intermediate_size, config)


class _Encoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(config) for _ in range(config.num_hidden_layers))


class PlainBert(nn.Module):
    """BERT's embeddings and transformer layers as plain modules, named as in transformers' ``BertModel``
    (so a checkpoint's keys load unchanged), with no forward pass of its own: ``PackedBertLayers`` runs it."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)


def load_bert(config: BertConfig, weights: Path, *, prefix: str = "", embeddings: nn.Module | None = None) -> PlainBert:
    """A ``PlainBert`` with the tensors of ``weights`` whose names start with ``prefix``.

    ``embeddings``: an embeddings module to use instead of the file's (the judge shares the sentence
    model's, which it was trained with frozen); the file then need not hold any.
    Every other tensor the model needs must be in the file; extra ones (a pooler) are ignored.
    """
    with torch.device("meta"):  # nothing allocated: the file's tensors are assigned next
        bert = PlainBert(config)
    wanted = [name for name in bert.state_dict() if embeddings is None or not name.startswith("embeddings.")]
    state = read_tensors(weights, wanted, prefix)
    if embeddings is not None:
        bert.embeddings = embeddings
    bert.load_state_dict(state, strict=False, assign=True)
    return bert.eval().requires_grad_(False)


def load_embeddings(config: BertConfig, weights: Path) -> nn.Module:
    """Only the embeddings of the BERT in ``weights`` (the judge's, when no encoder has loaded them)."""
    with torch.device("meta"):
        embeddings = _Embeddings(config)
    state = read_tensors(weights, list(embeddings.state_dict()), "embeddings.")
    embeddings.load_state_dict(state, assign=True)
    return embeddings.eval().requires_grad_(False)


def read_tensors(weights: Path, names: list[str], prefix: str) -> dict[str, torch.Tensor]:
    """The float32 tensors ``prefix + name`` of the safetensors file, keyed by ``name``; every one must be there."""
    with safe_open(str(weights), framework="pt") as handle:
        available = set(handle.keys())
        absent = [name for name in names if prefix + name not in available]
        if absent:
            raise UnsupportedCheckpointError(f"{weights}: no tensor {prefix + absent[0]}")
        return {name: handle.get_tensor(prefix + name).float() for name in names}  # the judge ships float16


def load_tokenizer(path: Path) -> Tokenizer:
    """The checkpoint's fast tokenizer, without padding or truncation (callers set their own)."""
    tokenizer_file = path / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise UnsupportedCheckpointError(f"{path}: no tokenizer.json")
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
    except Exception as exc:  # the tokenizers library raises plain Exceptions for a bad file
        raise UnsupportedCheckpointError(f"{tokenizer_file}: {exc}") from None
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@dataclass(frozen=True)
class SentenceCheckpoint:
    """A sentence model's BERT, tokenizer and token limit, read from its folder."""

    bert: PlainBert
    tokenizer: Tokenizer
    max_seq_length: int

    def tokenize(self, texts: list[str]) -> list[Encoding]:
        """Tokens of each text as sentence-transformers makes them: special tokens, cut at the limit."""
        return self.tokenizer.encode_batch(texts)

    def limited_to(self, max_tokens: int) -> SentenceCheckpoint:
        """The same model with a lower token limit (a new tokenizer: this one may be in use elsewhere)."""
        limit = min(max_tokens, self.max_seq_length)
        return SentenceCheckpoint(self.bert, _truncating_copy(self.tokenizer, limit), limit)


def read_sentence_checkpoint(path: Path) -> SentenceCheckpoint:
    """Read the sentence-transformers folder ``path``; ``UnsupportedCheckpointError`` if its layout is
    not exactly Transformer (BERT) -> mean Pooling -> Normalize without prompts."""
    modules = _read_json(path / "modules.json")
    if not isinstance(modules, list) or tuple(m.get("type") for m in modules) != MODULE_TYPES:
        raise UnsupportedCheckpointError(f"{path / 'modules.json'}: not Transformer -> Pooling -> Normalize")
    if modules[0].get("path", "") != "":
        raise UnsupportedCheckpointError(f"{path / 'modules.json'}: the transformer is not at the top level")
    pooling = _read_json(path / modules[1]["path"] / "config.json")
    modes = {key for key, value in pooling.items() if key.startswith("pooling_mode") and value}
    if modes != {"pooling_mode_mean_tokens"}:
        raise UnsupportedCheckpointError(f"{path / modules[1]['path']}: pooling is not the mean of tokens")
    settings = _read_json(path / "sentence_bert_config.json")
    if settings.get("do_lower_case"):
        raise UnsupportedCheckpointError(f"{path}: sentence-transformers lower-cases the text itself")
    extra = _read_json(path / "config_sentence_transformers.json", default={})
    if extra.get("prompts") or extra.get("default_prompt_name"):
        raise UnsupportedCheckpointError(f"{path}: the model uses prompts")
    config = BertConfig.read(path)
    max_seq_length = int(settings.get("max_seq_length") or config.max_position_embeddings)
    tokenizer = _truncating_copy(load_tokenizer(path), max_seq_length)
    return SentenceCheckpoint(load_bert(config, path / WEIGHTS_FILE), tokenizer, max_seq_length)


def _truncating_copy(tokenizer: Tokenizer, max_tokens: int) -> Tokenizer:
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_padding()
    copy.enable_truncation(max_tokens)
    return copy


def _read_json(file: Path, default: Any = None) -> Any:
    if not file.is_file():
        if default is not None:
            return default
        raise UnsupportedCheckpointError(f"{file} is missing")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedCheckpointError(f"{file}: {exc}") from None
