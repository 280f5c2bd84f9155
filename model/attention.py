"""Scaled dot-product attention and multi-head attention, computed explicitly.

An explicit implementation, to show there is nothing too scary here: softmax(Q Kᵀ / √d_head) V.
Fused kernels would hide the probabilities, and the probabilities are what attnscope shows.

Shapes:  B batch, H heads, Tq queries, Tk keys, D d_model, Dh d_head.
Masks are boolean and broadcast to (B, H, Tq, Tk): True where a query may look at a key.
"""

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from model.cache import KVCache
from model.trace import AttentionTrace


class AttentionSteps(NamedTuple):
    """softmax(Q Kᵀ / √Dh) one step at a time, each (B, H, Tq, Tk)."""

    scores: torch.Tensor  # Q Kᵀ: each query's dot product with each key
    scaled: torch.Tensor  # ÷ √Dh, so that wide heads do not saturate the softmax
    masked: torch.Tensor  # -inf where a query may not look
    probs: torch.Tensor  # the softmax of each row: it sums to 1


def attention_steps(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None
) -> AttentionSteps:
    """Every step of softmax(Q Kᵀ / √Dh) for q (B, H, Tq, Dh) and k (B, H, Tk, Dh)."""
    scores = q @ k.transpose(-2, -1)  # (B, H, Tq, Tk)
    scaled = scores / math.sqrt(q.size(-1))
    masked = scaled if mask is None else scaled.masked_fill(~mask, float("-inf"))
    return AttentionSteps(scores, scaled, masked, F.softmax(masked, dim=-1))


def attention_probs(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """softmax(Q Kᵀ / √Dh): each row sums to 1."""
    return attention_steps(q, k, mask).probs  # (B, H, Tq, Tk)


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (output (B, H, Tq, Dh), probs (B, H, Tq, Tk)): each output is a mix of values."""
    probs = attention_probs(q, k, mask)
    return probs @ v, probs


def dropped(dropout: nn.Dropout, x: torch.Tensor) -> torch.Tensor:
    """`dropout(x)` while training; `x` itself otherwise, as nn.Dropout gives in eval mode,
    without its call: about 15 per decoding step, each a torch call that lets go of the GIL."""
    return dropout(x) if dropout.training else x


def causal_mask(
    t_q: int, t_k: int | None = None, device: torch.device | None = None
) -> torch.Tensor:
    """(1, 1, Tq, Tk) mask where query i sees keys 0..i (+ any earlier cached keys)."""
    t_k = t_q if t_k is None else t_k
    offset = t_k - t_q  # keys already in the cache before these queries
    rows = torch.arange(t_q, device=device)[:, None] + offset
    cols = torch.arange(t_k, device=device)[None, :]
    return (cols <= rows)[None, None]


class MultiHeadAttention(nn.Module):
    """H attention heads side by side, each looking at a d_head-wide slice of the projections.

    `name` is the site name in traces (`encoder.0.self`, `decoder.1.cross`, ...), fixed here so
    that what the page plots always has the same address.
    """

    def __init__(self, name: str, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.name = name
        self.is_cross = name.endswith(".cross")
        self.n_heads = n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)  # (B, H, T, Dh)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor,
        mask: torch.Tensor | None = None,
        trace: AttentionTrace | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """Queries come from x (B, Tq, D); keys and values from context (B, Tk, D).

        For self-attention context is x itself; for cross-attention it is the encoder output.
        """
        q = self.split_heads(self.q_proj(x))  # (B, H, Tq, Dh)
        cached = cache.get(self.name) if cache is not None else None
        if self.is_cross and cached is not None:
            k, v = cached  # the encoder output does not change between steps
        else:
            k = self.split_heads(self.k_proj(context))  # (B, H, Tk, Dh)
            v = self.split_heads(self.v_proj(context))
            if cached is not None:
                k = torch.cat([cached[0], k], dim=2)  # (B, H, Tpast + Tk, Dh)
                v = torch.cat([cached[1], v], dim=2)
            if cache is not None:
                cache.put(self.name, k, v)
        steps = attention_steps(q, k, mask)
        probs = steps.probs  # (B, H, Tq, Tk)
        if trace is not None:
            trace.record(self.name, probs)
        # Dropout after recording, so the trace shows the weights the model computed.
        z = dropped(self.dropout, probs) @ v  # (B, H, Tq, Dh)
        b, _, t_q, _ = z.shape
        joined = z.transpose(1, 2).reshape(b, t_q, -1)  # (B, Tq, D): the heads side by side
        if trace is not None:
            trace.keep(self.name, x=x, q=q, k=k, v=v, scores=steps.scores, scaled=steps.scaled)
            trace.keep(self.name, masked=steps.masked, z=z, joined=joined)
        return self.out_proj(joined)
