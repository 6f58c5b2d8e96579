"""Qwen3's forward pass over packed rows that share prefixes: the ``transformers`` engine's model.

A reranker needs one number per row, so the rows are not padded into a rectangle. They go back to
back into one flat token sequence: for each group of rows that start alike (one query against many
documents: system text, instruction, query), the group's common prefix once, then every row's rest.
Projections and MLPs run on these tokens only. Attention gives each rest the keys of its prefix
followed by its own (a gather of key rows), causal and aligned at the end, so every row attends to
exactly the tokens of its own unpacked prompt. The last layer runs ``o_proj`` and the MLP only on
each row's last token, the one the score is read from.

Attention is FlashAttention's varlen kernel on CUDA (``torch.nn.attention.varlen``, bf16/fp16) and
SDPA per segment elsewhere. Weights are the Hugging Face model's, with q/k/v and gate/up fused into
one matrix each so that every layer runs four large matrix products.

Small batches (a few rows, up to 2,048 tokens, no shared prefix) are bound by launching ~20 kernels
per layer, not by the GPU; on CUDA they replay a CUDA graph captured once per (tokens, rows) bucket,
their tokens padded up with a dummy segment.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class PackedRows:
    """Token layout of one packed batch; tensors live on the model's device.

    A *segment* is a run of query tokens that attend together: a group's prefix, or one row's rest.
    ``key_index`` lists, segment after segment, the token rows each segment attends to (prefix rows,
    then its own); it is ``None`` when every segment attends to just itself.
    """

    input_ids: Tensor  # [tokens]
    position_ids: Tensor  # [tokens]
    key_index: Tensor | None  # [key tokens]
    cu_q: Tensor  # int32 [segments + 1]: segment bounds in the packed tokens
    cu_k: Tensor  # int32 [segments + 1]: segment bounds in the gathered keys
    max_q: int
    max_k: int
    last: Tensor  # [rows]: each row's last token, in row order
    segments: tuple[tuple[int, int, int, int], ...]  # (q start, q end, k start, k end) per segment


def pack_rows(groups: Sequence[tuple[list[int], list[list[int]]]], device: torch.device | str) -> PackedRows:
    """Lay out ``groups`` of (shared prefix, rests); rows are numbered in the order given.

    Each row's prompt is its group's prefix followed by its rest; every rest must be non-empty.
    """
    tokens: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    key_rows: list[np.ndarray] = []
    segments: list[tuple[int, int, int, int]] = []
    last: list[int] = []
    size = key_size = 0
    for prefix, rests in groups:
        prefix_rows = np.arange(size, size + len(prefix))
        if prefix:
            tokens.append(np.asarray(prefix))
            positions.append(np.arange(len(prefix)))
            key_rows.append(prefix_rows)
            segments.append((size, size + len(prefix), key_size, key_size + len(prefix)))
            size, key_size = size + len(prefix), key_size + len(prefix)
        for rest in rests:
            if not rest:
                raise ValueError("every row needs at least one token after its shared prefix")
            own_rows = np.arange(size, size + len(rest))
            tokens.append(np.asarray(rest))
            positions.append(np.arange(len(prefix), len(prefix) + len(rest)))
            key_rows += [prefix_rows, own_rows]
            keys = len(prefix) + len(rest)
            segments.append((size, size + len(rest), key_size, key_size + keys))
            size, key_size = size + len(rest), key_size + keys
            last.append(size - 1)

    def tensor(values: Sequence[int] | np.ndarray, dtype: torch.dtype = torch.long) -> Tensor:
        return torch.as_tensor(np.asarray(values), dtype=dtype).to(device)

    return PackedRows(
        input_ids=tensor(np.concatenate(tokens)),
        position_ids=tensor(np.concatenate(positions)),
        key_index=tensor(np.concatenate(key_rows)) if key_size > size else None,
        cu_q=tensor([0] + [q_end for _, q_end, _, _ in segments], torch.int32),
        cu_k=tensor([0] + [k_end for _, _, _, k_end in segments], torch.int32),
        max_q=max(q_end - q_start for q_start, q_end, _, _ in segments),
        max_k=max(k_end - k_start for _, _, k_start, k_end in segments),
        last=tensor(last),
        segments=tuple(segments),
    )


def common_prefix_length(rows: Sequence[list[int]]) -> int:
    """How many first tokens all ``rows`` share, leaving every row at least one token of its own."""
    if len(rows) < 2:
        return 0
    limit = min(len(row) for row in rows) - 1
    first = rows[0]
    shared = 0
    while shared < limit and all(row[shared] == first[shared] for row in rows):
        shared += 1
    return shared


class _Layer(NamedTuple):
    input_norm: Tensor
    qkv: Tensor  # [(heads + 2 * kv_heads) * head_dim, hidden]
    qkv_bias: Tensor | None
    q_norm: Tensor
    k_norm: Tensor
    o_proj: Tensor
    post_norm: Tensor
    gate_up: Tensor  # [2 * intermediate, hidden]
    down: Tensor


def _rms_norm(x: Tensor, weight: Tensor, eps: float) -> Tensor:
    """Qwen3RMSNorm: normalise in fp32, scale in the input's dtype."""
    dtype = x.dtype
    x = x.float()
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x.to(dtype)


def _rotate_half(x: Tensor) -> Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _layer_halves(heads: int, kv_heads: int, head_dim: int, eps: float) -> tuple[Callable, Callable]:
    """The two dense halves of a decoder layer, around attention, for this model's shape."""

    def qkv(x: Tensor, layer: _Layer, cos: Tensor, sin: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Normed, projected, qk-normed and rotated queries [T, H, D], keys and values [T, Hkv, D]."""
        projected = F.linear(_rms_norm(x, layer.input_norm, eps), layer.qkv, layer.qkv_bias)
        q, k, v = projected.split((heads * head_dim, kv_heads * head_dim, kv_heads * head_dim), dim=-1)
        q = _rms_norm(q.view(-1, heads, head_dim), layer.q_norm, eps)
        k = _rms_norm(k.view(-1, kv_heads, head_dim), layer.k_norm, eps)
        cos, sin = cos[:, None], sin[:, None]
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        return q, k, v.reshape(-1, kv_heads, head_dim)

    def out_mlp(x: Tensor, attention: Tensor, layer: _Layer) -> Tensor:
        """Output projection and residual, then the MLP and residual."""
        hidden = x + F.linear(attention, layer.o_proj)
        gate, up = F.linear(_rms_norm(hidden, layer.post_norm, eps), layer.gate_up).chunk(2, dim=-1)
        return hidden + F.linear(F.silu(gate) * up, layer.down)

    return qkv, out_mlp


def _flash_varlen() -> Callable[..., Tensor] | None:
    """``varlen_attn`` with causal, end-aligned masking, or None where this torch lacks it."""
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    parameters = inspect.signature(varlen_attn).parameters
    # torch 2.10 spells causal ``is_causal``; later versions a (left, right) window, (-1, 0) = causal.
    options: dict[str, Any] = {"window_size": (-1, 0)} if "window_size" in parameters else {"is_causal": True}
    if "enable_gqa" in parameters:
        options["enable_gqa"] = True

    def attend(q: Tensor, k: Tensor, v: Tensor, rows: PackedRows) -> Tensor:
        return varlen_attn(q, k, v, rows.cu_q, rows.cu_k, rows.max_q, rows.max_k, **options)

    return attend


def _sdpa_per_segment(q: Tensor, k: Tensor, v: Tensor, rows: PackedRows) -> Tensor:
    """Reference attention: SDPA on each segment, causal aligned at the end of its keys."""
    from torch.nn.attention.bias import causal_lower_right

    out = torch.empty_like(q)
    for q_start, q_end, k_start, k_end in rows.segments:
        length_q, length_k = q_end - q_start, k_end - k_start
        out[q_start:q_end] = F.scaled_dot_product_attention(
            q[q_start:q_end].transpose(0, 1),
            k[k_start:k_end].transpose(0, 1),
            v[k_start:k_end].transpose(0, 1),
            attn_mask=causal_lower_right(length_q, length_k),
            enable_gqa=True,
        ).transpose(0, 1)
    return out


#: Padded token counts and row counts of the captured CUDA graphs (batches above these run eagerly).
GRAPH_TOKENS = (128, 256, 512, 1024, 2048)
GRAPH_ROWS = (1, 2, 4, 8)


class _GraphedForward:
    """A forward pass captured for ``tokens`` padded tokens and ``rows`` rows, without a shared prefix.

    The inputs live in static buffers: the real segments first, then one dummy segment of padding
    tokens that attends to itself, then empty segments; padded rows read the last padding token.
    """

    def __init__(self, forward: Callable[[PackedRows], Tensor], tokens: int, rows: int, pool: Any) -> None:
        device = torch.device("cuda", torch.cuda.current_device())
        bounds = torch.full((rows + 2,), tokens, dtype=torch.int32, device=device)
        bounds[0] = 0  # as captured: one segment of all tokens
        self.tokens, self.rows = tokens, rows
        self.inputs = PackedRows(
            input_ids=torch.zeros(tokens, dtype=torch.long, device=device),
            position_ids=torch.arange(tokens, device=device),
            key_index=None,
            cu_q=bounds,
            cu_k=bounds,
            max_q=tokens,
            max_k=tokens,
            last=torch.full((rows,), tokens - 1, dtype=torch.long, device=device),
            segments=(),
        )
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):  # compiles and autotunes outside the capture
                forward(self.inputs)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph, pool=pool):
            self.output = forward(self.inputs)

    def __call__(self, rows: PackedRows) -> Tensor:
        """Copy ``rows`` into the captured inputs, replay, and return the rows' hidden states."""
        tokens, count = rows.input_ids.numel(), rows.last.numel()
        padding = self.tokens - tokens
        inputs = self.inputs
        inputs.input_ids[:tokens].copy_(rows.input_ids)
        inputs.input_ids[tokens:].zero_()
        inputs.position_ids[:tokens].copy_(rows.position_ids)
        inputs.position_ids[tokens:].copy_(torch.arange(padding, device=inputs.position_ids.device))
        inputs.cu_q[: count + 1].copy_(rows.cu_q)
        inputs.cu_q[count + 1 :].fill_(self.tokens)
        inputs.last[:count].copy_(rows.last)
        inputs.last[count:].fill_(self.tokens - 1)
        self.graph.replay()
        return self.output[:count]


class PackedQwen3:
    """The backbone of a loaded Qwen3 causal LM, run on ``PackedRows``; returns final hidden states."""

    def __init__(self, lm: Any, *, compile: bool | str = False, cuda_graphs: bool = True) -> None:
        """Take (and fuse) the weights of ``lm``, a transformers ``Qwen3ForCausalLM``.

        ``compile``: True or a ``torch.compile`` mode; compiles the two dense halves of a layer
        (attention stays an opaque kernel between them), with dynamic token counts.
        ``cuda_graphs``: capture the small-batch graphs (only with the CUDA flash kernel).
        """
        config = lm.config
        if "sliding_attention" in (getattr(config, "layer_types", None) or ()):
            raise ValueError("sliding-window Qwen3 layers are not supported by the packed forward")
        backbone = lm.model
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.eps = config.rms_norm_eps
        self.embed = backbone.embed_tokens
        self.rotary = backbone.rotary_emb
        self.final_norm = backbone.norm.weight
        self.layers = [self._fuse(layer) for layer in backbone.layers]
        device, dtype = self.final_norm.device, self.final_norm.dtype
        flash = _flash_varlen() if device.type == "cuda" and dtype in (torch.bfloat16, torch.float16) else None
        self.attention_kernel = "flash-varlen" if flash else "sdpa"
        self._attend = flash or _sdpa_per_segment
        self._qkv, self._out = _layer_halves(self.heads, self.kv_heads, self.head_dim, self.eps)
        if compile:
            mode = compile if isinstance(compile, str) else None
            self._qkv = torch.compile(self._qkv, mode=mode, dynamic=True)
            self._out = torch.compile(self._out, mode=mode, dynamic=True)
        self._graphs: dict[tuple[int, int], _GraphedForward] = {}
        if flash and cuda_graphs:
            pool = torch.cuda.graph_pool_handle()
            with torch.inference_mode():
                for tokens in GRAPH_TOKENS:
                    for rows in GRAPH_ROWS:
                        self._graphs[tokens, rows] = _GraphedForward(self._forward, tokens, rows, pool)

    def graph_for(self, tokens: int, rows: int) -> tuple[int, int] | None:
        """The (tokens, rows) bucket whose captured graph serves such a batch, if any."""
        fitting = [bucket for bucket in self._graphs if bucket[0] >= tokens and bucket[1] >= rows]
        return min(fitting, default=None)

    @staticmethod
    def _fuse(layer: Any) -> _Layer:
        attention, mlp = layer.self_attn, layer.mlp
        projections = (attention.q_proj, attention.k_proj, attention.v_proj)
        biases = [p.bias for p in projections]
        return _Layer(
            input_norm=layer.input_layernorm.weight,
            qkv=torch.cat([p.weight for p in projections]),
            qkv_bias=torch.cat(biases) if all(b is not None for b in biases) else None,
            q_norm=attention.q_norm.weight,
            k_norm=attention.k_norm.weight,
            o_proj=attention.o_proj.weight,
            post_norm=layer.post_attention_layernorm.weight,
            gate_up=torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]),
            down=mlp.down_proj.weight,
        )

    @torch.inference_mode()
    def last_hidden(self, rows: PackedRows) -> Tensor:
        """The final-normed hidden state at every row's last token: [rows, hidden]."""
        bucket = self.graph_for(rows.input_ids.numel(), rows.last.numel()) if rows.key_index is None else None
        return self._graphs[bucket](rows) if bucket else self._forward(rows)

    def _forward(self, rows: PackedRows) -> Tensor:
        x = self.embed(rows.input_ids)
        cos, sin = self.rotary(x, rows.position_ids[None])
        cos, sin = cos[0], sin[0]
        for number, layer in enumerate(self.layers):
            q, k, v = self._qkv(x, layer, cos, sin)
            if rows.key_index is not None:
                k, v = k.index_select(0, rows.key_index), v.index_select(0, rows.key_index)
            attention = self._attend(q, k, v, rows).flatten(1)
            if number == len(self.layers) - 1:  # only the last tokens matter from here on
                x, attention = x.index_select(0, rows.last), attention.index_select(0, rows.last)
            x = self._out(x, attention, layer)
        return _rms_norm(x, self.final_norm, self.eps)
