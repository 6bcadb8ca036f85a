"""A packed (unpadded) forward pass for BERT sentence encoders such as all-MiniLM-L6-v2.

Grading encodes 20-40 short texts of very different lengths per answer. The stock forward pass
pads every batch to its longest text, so most of the CPU goes on padding tokens. Here the tokens
of all texts are laid end to end in one matrix: every linear layer, layer norm and the embedding
sum run on real tokens only. Attention is the one step that needs texts apart; it runs per group
of a few length-sorted texts, padded only to the longest text of the group.

The maths is exactly sentence-transformers' Transformer -> mean Pooling -> Normalize in eval mode,
so results differ from ``SentenceTransformer.encode`` by float rounding only (measured <= 3e-7).
With ``bfloat16=True`` the matrix products run in bfloat16 (residuals, layer norms and pooling stay
float32): on a CPU with AMX, 31 against 54 ms for an answer's 26 texts, every vector within cosine
0.99997 of float32.
The weights come from ``bert_checkpoint``, which reads only the layout this reproduces; the caller
still compares the vectors with sentence-transformers' own before trusting this pass (see
``SentenceTransformerEncoder.load``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.nn import functional

if TYPE_CHECKING:
    from grader.engine.bert_checkpoint import SentenceCheckpoint

ATTENTION_GROUP_SIZE = 8
"""Texts per attention group: smaller groups pay more calls per layer, larger ones more padding
when one text is long. For an answer's 30 texts, 4 to 32 measured within a few ms of each other."""

PASS_ROW_MULTIPLE = 64
"""A pass multiplies a number of token rows that is a multiple of this (zero rows make up the rest).
oneDNN compiles and keeps a kernel for every matrix shape it meets: with the exact token count as
the shape, every answer brought new shapes and the process grew by about 2.7 MB per encode call,
without bound (measured over 100 calls). Rounded up, a pass has at most TOKENS_PER_PASS / 64
shapes. It also keeps float32 products off the kernel that a product of fewer than 12 rows takes,
which rounds a row differently; bfloat16 products round each row the same whatever their count."""

STABLE_INPUT_WIDTH = 384
"""The down projection's bfloat16 product is cut into slices of this many inputs per row, run as one
batched product and summed in float32 (one slice where the inputs do not divide evenly). On a CPU
with AMX (oneDNN 3.12, two threads) a product over 1,536 inputs (BERT's down projection) rounds a
row differently when the pass has fewer than 512 rows than when it has more, so a verdict moved by
about 0.001 with the pairs read beside it; products over 384 inputs round every row the same at
every row count from 64 to 4,096 (measured). A grade must not depend on its batch.

In float32 the same product drifts on another CPU: on an Intel Xeon with AVX-512 and no AMX (oneDNN,
two threads) a row of a 1,536-input product over 256 rows or more differs by about 1e-5 from the
same row in a product of 64-192 rows, enough to move a verdict's last bit. Slicing the inputs fixes
it too but doubles the product's time; instead the float32 down projection runs as products of
STABLE_ROW_STEP rows, every one the same shape, so no row's rounding can depend on the others.
Only where texts attend alone (the judge): the sentence encoder's attention groups already make a
vector depend on its neighbours by float rounding."""

STABLE_ROW_STEP = 128
"""Rows per float32 down-projection product where a text's output must not depend on its pass (see
STABLE_INPUT_WIDTH). On that Xeon, for a 1,024-row pass: one product 6.7 ms, 64-row steps 8.8 ms,
128-row steps 7.1 ms (measured)."""

TOKENS_PER_PASS = 4096
"""Token budget of one packed pass, so peak memory matches the stock path's batch of 16 x 256
tokens however many texts one call encodes (grading a batch of answers encodes thousands)."""


class PackedBertEncoder:
    """Encodes texts with a sentence checkpoint's own weights, without computing on padding.

    Returns L2-normalised float32 rows, one per text in input order, like
    ``model.encode(texts, normalize_embeddings=True)``. Holds no per-call state, so it may be
    used from several threads.
    """

    def __init__(self, checkpoint: SentenceCheckpoint, *, bfloat16: bool = False) -> None:
        self._checkpoint = checkpoint
        self._layers = PackedBertLayers(checkpoint.bert, bfloat16=bfloat16)
        self._hidden = self._layers.hidden_size

    @property
    def layers(self) -> PackedBertLayers:
        return self._layers

    @property
    def dimension(self) -> int:
        return self._hidden

    @property
    def bfloat16(self) -> bool:
        return self._layers.bfloat16

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._hidden), dtype=np.float32)
        with torch.inference_mode():
            # Tokens as sentence-transformers makes them (special tokens, truncation to the model's
            # limit, the tokenizer's own lower-casing); tests compare them with its preprocessing.
            encodings = self._checkpoint.tokenize(list(texts))
            lengths = [len(encoding.ids) for encoding in encodings]
            # Longest first, so neighbours in an attention group have similar lengths.
            order = sorted(range(len(texts)), key=lambda index: -lengths[index])
            lengths_sorted = [lengths[index] for index in order]

            embeddings = torch.empty(len(texts), self._hidden)
            first = 0
            for last in pass_ends(lengths_sorted, TOKENS_PER_PASS):
                chosen = [encodings[index] for index in order[first:last]]
                token_ids = torch.tensor([token for encoding in chosen for token in encoding.ids])
                token_types = torch.tensor([token for encoding in chosen for token in encoding.type_ids])
                embeddings[first:last] = self._encode_pass(token_ids, token_types, lengths_sorted[first:last])
                first = last
            result = torch.empty_like(embeddings)
            result[torch.tensor(order)] = embeddings
            return result.numpy()

    def _encode_pass(self, token_ids: torch.Tensor, token_types: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Mean-pooled, normalised embeddings of texts whose tokens are concatenated in ``token_ids``.

        ``lengths`` are the texts' token counts, longest first, summing to ``len(token_ids)``.
        """
        length_tensor = torch.tensor(lengths)
        text_of_token = torch.repeat_interleave(torch.arange(len(lengths)), length_tensor)
        hidden = self._layers.hidden_states(token_ids, token_types, lengths)
        sums = hidden.new_zeros(len(lengths), self._hidden).index_add_(0, text_of_token, hidden)
        means = sums / length_tensor.to(hidden.dtype)[:, None]
        return functional.normalize(means, p=2, dim=1)


class PackedBertLayers:
    """A ``BertModel``'s embeddings and transformer layers run over texts packed end to end.

    ``hidden_states`` returns the last layer's output for every real token; callers pool it. The
    sentence encoder (``PackedBertEncoder``) and the judge (a cross-encoder on the same BERT) share
    it. ``attention_group_size`` texts share one attention call, padded to the longest of them;
    with 1 every text attends alone, and a text's output is then bit for bit the same whatever
    other texts share its pass (the judge needs that: a verdict must not depend on its batch).
    """

    def __init__(self, bert: Any, *, bfloat16: bool = False, attention_group_size: int = ATTENTION_GROUP_SIZE) -> None:
        self._bert = bert
        self._group_size = attention_group_size
        self._texts_alone = attention_group_size == 1
        config = bert.config
        self._heads = int(config.num_attention_heads)
        self.hidden_size = int(config.hidden_size)
        self._head_size = self.hidden_size // self._heads
        # BertSelfAttention scales scores by 1/sqrt(head size); read it from the layer when it says.
        self._scaling = float(getattr(bert.encoder.layer[0].attention.self, "scaling", self._head_size**-0.5))
        # Query, key and value fused into one matrix: one GEMM per layer over the packed tokens
        # instead of three. A copy of the weights (about 1 MB per layer for MiniLM), made in the
        # precision the pass runs in, once, so no pass pays for converting them.
        dtype = torch.bfloat16 if bfloat16 else torch.float32
        self._fused_qkv: list[tuple[torch.Tensor, torch.Tensor]] = []
        for layer in bert.encoder.layer:
            attention = layer.attention.self
            parts = (attention.query, attention.key, attention.value)
            weight = torch.cat([part.weight.detach().to(dtype) for part in parts]).contiguous()
            bias = torch.cat([part.bias.detach().to(dtype) for part in parts]).contiguous()
            self._fused_qkv.append((weight, bias))
        # bfloat16 copies of the other products' weights (with the fused ones, about half the
        # model's size again).
        self._bf16_layers: list[tuple[tuple[torch.Tensor, torch.Tensor], ...]] | None = None
        self._bf16_down_slices: list[tuple[torch.Tensor, torch.Tensor]] = []
        if bfloat16:
            self._bf16_layers = []
            for qkv, layer in zip(self._fused_qkv, bert.encoder.layer, strict=True):
                linears = (layer.attention.output.dense, layer.intermediate.dense, layer.output.dense)
                others = tuple((m.weight.detach().to(dtype), m.bias.detach().to(dtype)) for m in linears)
                self._bf16_layers.append((qkv, *others))
            # The down projection's weights cut along their long input side into a stack of
            # (STABLE_INPUT_WIDTH x outputs) slices for one batched product (see STABLE_INPUT_WIDTH),
            # and its bias in float32, where the slices' products are summed.
            self._bf16_down_slices = []
            for *_, (down_w, down_b) in self._bf16_layers:
                inputs = down_w.shape[1]
                width = STABLE_INPUT_WIDTH if inputs % STABLE_INPUT_WIDTH == 0 else inputs  # else one slice
                stack = torch.stack([down_w[:, start : start + width].t() for start in range(0, inputs, width)])
                self._bf16_down_slices.append((stack.contiguous(), down_b.float()))
            # The whole down matrix and its bfloat16 bias are then no longer read.
            self._bf16_layers = [(*rest, (torch.empty(0), torch.empty(0))) for *rest, _ in self._bf16_layers]
            self._fused_qkv = []  # held in _bf16_layers

    def free_stock_weights(self) -> None:
        """Free the BERT's own copies of the weights this pass keeps its own copy of (about 40 MB for
        MiniLM in bfloat16). The BERT can no longer run its own forward pass afterwards."""
        for layer in self._bert.encoder.layer:
            attention = layer.attention.self
            linears = [attention.query, attention.key, attention.value]
            if self._bf16_layers is not None:
                linears += [layer.attention.output.dense, layer.intermediate.dense, layer.output.dense]
            for linear in linears:
                linear.weight = torch.nn.Parameter(torch.empty(0), requires_grad=False)
                linear.bias = torch.nn.Parameter(torch.empty(0), requires_grad=False)

    @property
    def bfloat16(self) -> bool:
        return self._bf16_layers is not None

    def hidden_states(self, token_ids: torch.Tensor, token_types: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """The last layer's output for texts whose tokens are concatenated in ``token_ids``.

        ``lengths`` are the texts' token counts, summing to ``len(token_ids)``; with attention groups
        of more than one text they must be sorted longest first.
        """
        length_tensor = torch.tensor(lengths)
        # Position of each token within its own text: BERT's absolute positions restart per text.
        starts = torch.cumsum(length_tensor, 0) - length_tensor
        text_of_token = torch.repeat_interleave(torch.arange(len(lengths)), length_tensor)
        positions = torch.arange(len(token_ids)) - starts[text_of_token]
        groups = [
            _AttentionGroup(lengths, first, positions, self._group_size)
            for first in range(0, len(lengths), self._group_size)
        ]
        embed = self._bert.embeddings
        hidden = embed.word_embeddings(token_ids) + embed.token_type_embeddings(token_types)
        hidden = embed.LayerNorm(hidden + embed.position_embeddings(positions))
        real_rows = len(token_ids)
        padded_rows = -(-real_rows // PASS_ROW_MULTIPLE) * PASS_ROW_MULTIPLE
        if padded_rows > real_rows:
            # Rows no text attends to: they only keep the matrix products to a few shapes.
            hidden = torch.cat([hidden, hidden.new_zeros(padded_rows - real_rows, self.hidden_size)])
        if self._bf16_layers is not None:
            hidden = self._bf16_encoder(hidden, groups)
        else:
            hidden = self._fp32_encoder(hidden, groups)
        return hidden[:real_rows]

    def _bf16_encoder(self, hidden: torch.Tensor, groups: list[_AttentionGroup]) -> torch.Tensor:
        """The transformer layers with matrix products in bfloat16 and residuals, LayerNorm in float32."""
        assert self._bf16_layers is not None
        bf16 = torch.bfloat16
        layers = zip(self._bf16_layers, self._bf16_down_slices, self._bert.encoder.layer, strict=True)
        for weights, down_slices, layer in layers:
            (qkv_w, qkv_b), (out_w, out_b), (mid_w, mid_b), _ = weights
            qkv = functional.linear(hidden.to(bf16), qkv_w, qkv_b)
            context = torch.empty(hidden.shape, dtype=bf16)
            for group in groups:
                self._attend(qkv, group, context)
            attention_output = layer.attention.output
            hidden = attention_output.LayerNorm(functional.linear(context, out_w, out_b).float() + hidden)
            middle = layer.intermediate.intermediate_act_fn(functional.linear(hidden.to(bf16), mid_w, mid_b))
            down_w, down_b32 = down_slices
            sliced = middle.view(middle.shape[0], down_w.shape[0], down_w.shape[1]).transpose(0, 1)
            down = torch.bmm(sliced, down_w).float().sum(0) + down_b32
            hidden = layer.output.LayerNorm(down + hidden)
        return hidden

    def _fp32_encoder(self, hidden: torch.Tensor, groups: list[_AttentionGroup]) -> torch.Tensor:
        for (qkv_weight, qkv_bias), layer in zip(self._fused_qkv, self._bert.encoder.layer, strict=True):
            qkv = functional.linear(hidden, qkv_weight, qkv_bias)
            context = torch.empty_like(hidden)
            for group in groups:
                self._attend(qkv, group, context)
            attention_output = layer.attention.output
            hidden = attention_output.LayerNorm(attention_output.dense(context) + hidden)
            middle = layer.intermediate(hidden)
            down = layer.output.dense
            # Where texts attend alone, each must read the same whatever the pass holds.
            projected = linear_in_row_steps(middle, down.weight, down.bias) if self._texts_alone else down(middle)
            hidden = layer.output.LayerNorm(projected + hidden)
        return hidden

    def _attend(self, qkv: torch.Tensor, group: _AttentionGroup, context: torch.Tensor) -> None:
        """Multi-head self-attention for one group, written into the group's rows of ``context``."""
        count, width = group.count, group.width
        grid = qkv.index_select(0, group.grid_rows) if group.padded else qkv[group.tokens]
        query, key, value = grid.view(count, width, 3, self._heads, self._head_size).permute(2, 0, 3, 1, 4)
        # The same fused CPU kernel as the stock path (transformers' "sdpa" attention).
        mask = group.key_mask.to(query.dtype) if group.padded else None  # no copy when float32
        attended = functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, scale=self._scaling)
        attended = attended.transpose(1, 2).reshape(count * width, self.hidden_size)
        if group.padded:
            torch.index_select(attended, 0, group.slots, out=context[group.tokens])
        else:
            context[group.tokens] = attended



class _AttentionGroup:
    """A few consecutive texts of a pass, padded to the longest of them for attention only."""

    def __init__(self, lengths: list[int], first: int, positions: torch.Tensor, size: int) -> None:
        group_lengths = lengths[first : first + size]
        start = sum(lengths[:first])
        self.tokens = slice(start, start + sum(group_lengths))
        self.count = len(group_lengths)
        self.width = group_lengths[0]  # lengths are sorted longest first
        self.padded = group_lengths[-1] != self.width
        if not self.padded:
            return  # the group's packed tokens already form a (texts x width) grid
        group_length_tensor = torch.tensor(group_lengths)
        is_padding = torch.arange(self.width)[None, :] >= group_length_tensor[:, None]
        # Packed row of each grid slot. A padding slot reads any real row (the group's first):
        # its key is masked, its value gets exactly zero weight and its query's output is never
        # read, so it needs no zero-filled buffer, only one gather per layer.
        text_starts = start + torch.cumsum(group_length_tensor, 0) - group_length_tensor
        own_rows = text_starts[:, None] + torch.arange(self.width)[None, :]
        self.grid_rows = torch.where(is_padding, start, own_rows).reshape(-1)
        # Grid slot of each real token, to read the results back: text index * width + position.
        row_starts = torch.arange(self.count) * self.width
        self.slots = torch.repeat_interleave(row_starts, group_length_tensor) + positions[self.tokens]
        # Additive mask, as BERT's own: padding keys get the most negative float, so softmax gives
        # them exactly zero weight.
        self.key_mask = torch.zeros(self.count, 1, 1, self.width).masked_fill_(
            is_padding[:, None, None, :], torch.finfo(torch.float32).min
        )


def linear_in_row_steps(inputs: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``functional.linear(inputs, weight, bias)`` as products of STABLE_ROW_STEP rows, every one of the
    same shape (the last zero-padded), each written straight into its rows of the result: a row's
    rounding then never depends on how many rows the pass holds."""
    result = inputs.new_empty(len(inputs), weight.shape[0])
    transposed = weight.t()
    for start in range(0, len(inputs), STABLE_ROW_STEP):
        part = inputs[start : start + STABLE_ROW_STEP]
        if len(part) == STABLE_ROW_STEP:
            torch.addmm(bias, part, transposed, out=result[start : start + STABLE_ROW_STEP])
        else:
            padded = part.new_zeros(STABLE_ROW_STEP, part.shape[1])
            padded[: len(part)] = part
            result[start:] = torch.addmm(bias, padded, transposed)[: len(part)]
    return result


def pass_ends(lengths: list[int], token_budget: int) -> list[int]:
    """End indices of consecutive passes of at most ``token_budget`` tokens (one text at least)."""
    ends: list[int] = []
    tokens = 0
    for index, length in enumerate(lengths):
        if tokens and tokens + length > token_budget:
            ends.append(index)
            tokens = 0
        tokens += length
    ends.append(len(lengths))
    return ends
